package cmdutil

import (
	"os"
	"path/filepath"
)

// WritePublicFileAtomic writes a public file (a CA, a profile) mode 0644:
// a temp file in the same directory, synced, then renamed over path, so a
// reader (haproxy, a web server) never sees half a file.
func WritePublicFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	for _, step := range []func() error{
		func() error { _, err := tmp.Write(data); return err },
		func() error { return tmp.Chmod(0o644) },
		tmp.Sync,
	} {
		if err := step(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
