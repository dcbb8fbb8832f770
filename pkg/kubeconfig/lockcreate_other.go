//go:build !linux

package kubeconfig

// createExclusive: without O_TMPFILE, create then write (see createThenWrite).
func createExclusive(path string, content []byte) error { return createThenWrite(path, content) }
