package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/userfile"
)

// LockKey takes the per-key lock file "<dir>/<id>.lock", waiting up to
// timeout. Callers hold it while they re-read the cache, refresh only if the
// token is still stale, and write: refresh tokens rotate, so two concurrent
// refreshes would leave one process with a revoked token.
//
// The lock is atomicfile.Lock: an OS file lock, released by the kernel if
// the process dies, so a stale lock file is harmless and is never deleted.
func LockKey(ctx context.Context, dir string, k Key, timeout time.Duration) (unlock func(), err error) {
	if err := userfile.MkdirPrivate(dir); err != nil {
		return nil, fmt.Errorf("create the lock directory: %w", err)
	}
	path := filepath.Join(dir, k.ID()+".lock")
	unlock, err = atomicfile.Lock(ctx, path, timeout)
	switch {
	case err == nil:
		return unlock, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return nil, fmt.Errorf("waited %s for the token lock %s: another securekapi process is refreshing or logging in to %s; let it finish, then retry", timeout, path, k.Issuer)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("waiting for the token lock %s: %w", path, ctx.Err())
	default:
		return nil, fmt.Errorf("take the token lock: %w", err)
	}
}
