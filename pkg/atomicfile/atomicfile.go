// Package atomicfile is securekapi's one way to replace a file: kubeconfig,
// the cluster registry, token files, approvals, and the files expose and
// profile write. A reader, or a crash, sees the old content or the new,
// never a mix. Update adds the lock around a load-change-save, and Lock is
// the OS file lock that every such lock in securekapi takes (kubeconfig's
// own, kubectl's protocol, lives in pkg/kubeconfig).
//
// It links the standard library, gofrs/flock and pkg/userfile only, so the small exec
// program, which writes token files and takes their locks, can use it
// without linking anything heavier.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// Write replaces path with data: it writes a temp file in the same
// directory, fsyncs it, gives it the existing file's mode (and owner, where
// allowed) or defaultMode (0600 if 0) for a new file, renames it over path
// and fsyncs the directory. A symlink at path is followed, so a file linked
// from a dotfiles repo stays linked. A missing parent directory is created
// for the user alone (userfile.MkdirPrivate: 0700, or an owner-only ACL on
// Windows).
func Write(path string, data []byte, defaultMode os.FileMode) error {
	return write(path, data, defaultMode, false)
}

// WriteMode is Write with the file's mode set to exactly mode, whatever the
// replaced file had: 0600 for secrets (a token file someone loosened is
// tightened again), 0644 for files other programs read (a CA for haproxy).
func WriteMode(path string, data []byte, mode os.FileMode) error {
	return write(path, data, mode, true)
}

func write(path string, data []byte, mode os.FileMode, exact bool) error {
	target, err := followSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	dir := filepath.Dir(target)
	if err := userfile.MkdirPrivate(dir); err != nil {
		return fmt.Errorf("write %s: create its directory: %w", path, err)
	}
	existing, err := os.Stat(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if mode == 0 {
		mode = 0o600
	}
	if existing != nil && existing.IsDir() {
		return fmt.Errorf("write %s: it is a directory", path)
	}
	if existing != nil && !exact {
		mode = existing.Mode().Perm()
	}
	tmp, err := writeTemp(dir, filepath.Base(target), data, existing, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := rename(tmp, target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: the new content is in place but may not survive a power loss: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new temp file next to the target and returns
// its name; on failure it removes the temp file.
func writeTemp(dir, base string, data []byte, existing fs.FileInfo, mode os.FileMode) (name string, err error) {
	f, err := createTemp(dir, "."+base+".tmp-", mode) // never readable by others, even for a moment
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if existing != nil {
		copyOwner(f, existing)
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	// Chmod the open file so the mode is exact whatever the umask.
	if err := f.Chmod(mode); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// followSymlinks returns the file a chain of symlinks at path ends in, even
// if that file does not exist yet.
func followSymlinks(path string) (string, error) {
	for range 40 {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Mode()&fs.ModeSymlink == 0) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", fmt.Errorf("too many levels of symlinks at %s", path)
}

// syncDir makes the rename durable. Windows cannot open a directory for
// syncing, and its rename is already durable, so it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
