//go:build !windows

package atomicfile

import "os"

// createTemp creates a new temp file in dir; os.CreateTemp makes it 0600,
// and writeTemp sets the final mode.
func createTemp(dir, prefix string, _ os.FileMode) (*os.File, error) {
	return os.CreateTemp(dir, prefix+"*")
}
