//go:build !windows

package connerr

import "syscall"

const (
	refused = syscall.ECONNREFUSED
	reset   = syscall.ECONNRESET
)
