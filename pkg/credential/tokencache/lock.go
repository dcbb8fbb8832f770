package tokencache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a waiting process tries the lock again.
const lockRetry = 50 * time.Millisecond

// LockKey takes the per-key lock file "<dir>/<id>.lock", waiting up to
// timeout. Callers hold it while they re-read the cache, refresh only if the
// token is still stale, and write: refresh tokens rotate, so two concurrent
// refreshes would leave one process with a revoked token.
//
// The lock is an OS file lock, released by the kernel if the process dies,
// so a stale lock file is harmless and is never deleted (deleting it would
// let two processes lock two different files).
func LockKey(ctx context.Context, dir string, k Key, timeout time.Duration) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the lock directory: %w", err)
	}
	path := filepath.Join(dir, k.ID()+".lock")
	fl := flock.New(path)
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	locked, err := fl.TryLockContext(wait, lockRetry)
	switch {
	case locked:
		return func() { _ = fl.Unlock() }, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return nil, fmt.Errorf("waited %s for the token lock %s: another securekapi process is refreshing or logging in to %s; let it finish, then retry", timeout, path, k.Issuer)
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("waiting for the token lock %s: %w", path, ctx.Err())
	default:
		return nil, fmt.Errorf("take the token lock %s: %w", path, err)
	}
}
