//go:build !unix

package kubeconfig

// processIdentity: only the pid is recorded on Windows.
func processIdentity(int) (start, pidns string) { return "", "" }

// processGone never proves an owner dead here, so securekapi on Windows
// never breaks a lock: it waits and reports, as kubectl does.
func processGone(int, string) bool { return false }
