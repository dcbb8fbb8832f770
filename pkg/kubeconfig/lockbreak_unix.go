//go:build unix

package kubeconfig

import (
	"io"
	"os"
	"syscall"
)

// breakDeadLock removes lock if it names a securekapi process that is
// provably dead, and returns that owner.
//
// Two securekapi processes may find the same stale lock; both must not
// remove it, or the second would remove the lock the first has just taken.
// So a breaker takes flock(2) on the stale lock file itself (flock, unlike
// a lock file, dies with its process) and, holding it, checks that the path
// still names the file it locked before removing it. No one else removes a
// lock file while it exists: its owner is dead, kubectl removes only locks
// it created, and every other breaker needs this same flock. A breaker that
// waited for the flock finds the path gone or naming a new lock, and backs
// off. gofrs/flock cannot do this: it opens the path with O_CREATE, which
// would itself create a lock.
func breakDeadLock(lock string, self lockOwner) (lockOwner, bool) {
	f, err := os.Open(lock)
	if err != nil {
		return lockOwner{}, false
	}
	defer f.Close() // releases the flock
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return lockOwner{}, false // another process is breaking it
	}
	content, err := io.ReadAll(io.LimitReader(f, 1<<10))
	if err != nil {
		return lockOwner{}, false
	}
	owner, ok := parseLockOwner(content)
	if !ok || !owner.provablyDead(self) {
		return lockOwner{}, false
	}
	locked, err := f.Stat()
	if err != nil {
		return lockOwner{}, false
	}
	now, err := os.Lstat(lock)
	if err != nil || !os.SameFile(locked, now) {
		return lockOwner{}, false
	}
	if os.Remove(lock) != nil {
		return lockOwner{}, false
	}
	return owner, true
}
