//go:build unix && !linux

package kubeconfig

import (
	"errors"
	"syscall"
)

// processIdentity: these systems give no start time without cgo, so a lock
// records only the pid.
func processIdentity(int) (start, pidns string) { return "", "" }

// processGone: only "no such process" is proof. A reused pid looks alive,
// so such a lock is waited for, never broken.
func processGone(pid int, _ string) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
