package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// lockRetry is how often a waiting process tries a lock again.
const lockRetry = 50 * time.Millisecond

// updateLockTimeout is how long Update waits for another writer of the
// same file: long enough for any load-change-save, short enough that a
// stuck one is reported rather than waited for.
const updateLockTimeout = 10 * time.Second

// Lock takes the OS file lock (flock(2); LockFileEx on Windows) on the file
// at path, creating it, and waits up to timeout for another holder. The
// kernel releases the lock when its process dies, so a writer killed while
// holding it never locks others out; the file itself stays behind, harmless,
// and is never deleted (deleting it would let two processes lock two
// different files). On timeout the error wraps context.DeadlineExceeded;
// when ctx ends first, ctx's error.
func Lock(ctx context.Context, path string, timeout time.Duration) (unlock func(), err error) {
	fl := flock.New(path)
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	locked, err := fl.TryLockContext(wait, lockRetry)
	switch {
	case locked:
		return func() { _ = fl.Unlock() }, nil
	case err == nil:
		return nil, fmt.Errorf("lock %s: not taken", path)
	default:
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
}

// Update replaces path with what change makes of its content, holding the
// lock path+".lock" from the read to the rename, so two processes updating
// the same file at once both land. change receives the current content, nil
// if path does not exist, and returns the new one, which is written with
// WriteMode (exactly mode). When change fails the file is left as it was.
// A missing parent directory is created for the user alone.
func Update(path string, mode os.FileMode, change func(old []byte) ([]byte, error)) error {
	return update(path, mode, updateLockTimeout, change)
}

func update(path string, mode os.FileMode, timeout time.Duration, change func(old []byte) ([]byte, error)) error {
	if err := userfile.MkdirPrivate(filepath.Dir(path)); err != nil {
		return fmt.Errorf("update %s: create its directory: %w", path, err)
	}
	unlock, err := Lock(context.Background(), path+".lock", timeout)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("waited %s for the lock %s.lock: another securekapi is updating %s; let it finish, then run the command again", timeout, path, path)
	}
	if err != nil {
		return fmt.Errorf("update %s: %w", path, err)
	}
	defer unlock()
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return fmt.Errorf("read %s: %w", path, err)
	case old == nil:
		old = []byte{} // an empty file is not a missing one
	}
	data, err := change(old)
	if err != nil {
		return err
	}
	return WriteMode(path, data, mode)
}
