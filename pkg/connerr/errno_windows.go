package connerr

import "syscall"

// Winsock's codes; syscall.ECONNREFUSED and ECONNRESET on Windows are
// values Go invented, which no Windows call returns.
const (
	refused = syscall.Errno(10061) // WSAECONNREFUSED
	reset   = syscall.WSAECONNRESET
)
