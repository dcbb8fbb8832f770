# The entry point of the bcryptprimitives.dll stand-in (see bcryptprimitives.def):
# BOOL DllMain(HINSTANCE, DWORD, LPVOID) that always succeeds.
    .text
    .globl DllMain
DllMain:
    movl $1, %eax
    ret
