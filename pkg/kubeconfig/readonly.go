package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// refuseReadOnly refuses to replace a kubeconfig its owner made read-only
// (chmod 0444): an atomic rename would succeed where kubectl's own write
// fails, and undo a protection someone chose.
func refuseReadOnly(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("kubeconfig %s is read-only (mode %04o), and kubectl would not write it either; nothing was written. Make it writable (chmod u+w %s) or pass --kubeconfig with another file", path, fi.Mode().Perm(), path)
	}
	return nil
}
