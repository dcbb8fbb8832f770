//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"syscall"
)

// copyOwner gives the temp file the replaced file's owner, so `sudo -E
// kubectl securekapi ...` does not leave a root-owned file the user
// cannot read. It is best effort: without the right, the writer owns it, as
// it would own any new file.
func copyOwner(f *os.File, existing fs.FileInfo) {
	st, ok := existing.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid()) {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}
