package kubeconfig

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// createExclusive creates path holding content, failing with fs.ErrExist if
// it exists, with no moment at which path exists empty: the content goes
// into an unnamed O_TMPFILE first, which linkat then names. link(2) never
// replaces a file, so this excludes kubectl's O_EXCL create and vice versa.
// A kill -9 at any point leaves either no lock or a complete one that names
// this process, which the next securekapi can break. Filesystems without
// O_TMPFILE (NFS, some FUSE) fall back to create-then-write.
func createExclusive(path string, content []byte) error {
	f, err := os.OpenFile(filepath.Dir(path), unix.O_TMPFILE|os.O_WRONLY, 0o600)
	if err != nil {
		return createThenWrite(path, content)
	}
	defer f.Close()
	if _, err := f.Write(content); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	switch err {
	case nil:
		return nil
	case unix.EEXIST:
		return &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: err}
	default: // e.g. no /proc
		return createThenWrite(path, content)
	}
}
