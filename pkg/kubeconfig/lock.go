package kubeconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// Locking uses kubectl's own protocol: "<file>.lock" created with O_EXCL,
// removed when done. It is the only lock kubectl and client-go honour, so it
// is required; and because every securekapi process takes the same lock, it
// already serializes securekapi processes too. An extra flock(2) sidecar
// would add no exclusion, could not tell a stale ".lock" from a live kubectl
// (which never flocks), and would leave a file next to the kubeconfig that
// can never be safely deleted. So there is none.
//
// What kubectl's protocol lacks is recovery: a writer killed with the lock
// held leaves it forever. securekapi's lock files therefore name their owner
// (lockowner.go), a securekapi that finds one left by a dead securekapi
// removes it and says so (lockbreak_unix.go), and SIGINT or SIGTERM releases
// the locks held (lockrelease.go). kubectl's empty locks are waited for and
// reported, as before.

const (
	firstLockWait = 5 * time.Millisecond
	maxLockWait   = 100 * time.Millisecond
)

// lockAll locks files in sorted order, as ModifyConfig does, so two writers
// of the same list never each hold half of it. The returned func unlocks.
func (s *Store) lockAll(files []string) (unlock func() error, err error) {
	var held []string
	unlock = func() error {
		var errs []error
		for _, f := range slices.Backward(held) {
			errs = append(errs, releaseLock(f))
		}
		return errors.Join(errs...)
	}
	for _, f := range slices.Sorted(slices.Values(files)) {
		if err := s.lock(f); err != nil {
			return nil, errors.Join(err, unlock())
		}
		held = append(held, f)
	}
	return unlock, nil
}

// lock creates file's lock, retrying with backoff until LockTimeout. A lock
// left by a dead securekapi is removed at once.
func (s *Store) lock(file string) error {
	// kubectl creates the directory too (even for a file it will not write),
	// so a first kubeconfig can be locked.
	if err := userfile.MkdirPrivate(filepath.Dir(file)); err != nil {
		return lockError(file, err)
	}
	self := currentOwner()
	deadline := s.now().Add(s.lockTimeout())
	for wait := firstLockWait; ; wait = min(2*wait, maxLockWait) {
		err := createLock(file, self)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return lockError(file, err)
		}
		if dead, ok := breakDeadLock(lockName(file), self); ok {
			fmt.Fprintf(s.errOut(), "securekapi: removed the stale lock %s: securekapi process %d, which held it, is no longer running\n",
				lockName(file), dead.pid)
			continue
		}
		if !s.now().Before(deadline) {
			return s.lockedError(file)
		}
		s.sleep(wait)
	}
}

// createLock creates file's lock with self as its content.
func createLock(file string, self lockOwner) error {
	return createLockFile(file, []byte(self.String()))
}

// createThenWrite is kubectl's O_EXCL create, then the content. A process
// killed between the two leaves an empty lock, which is waited for and
// reported like kubectl's; createExclusive avoids that window where it can.
func createThenWrite(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func lockError(file string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("lock kubeconfig %s: %w; like kubectl, securekapi locks every file in KUBECONFIG, so each one's directory must be writable: drop read-only files from KUBECONFIG or pass --kubeconfig", file, err)
	}
	return fmt.Errorf("lock kubeconfig %s: %w", file, err)
}

func (s *Store) lockedError(file string) error {
	age := ""
	if fi, err := os.Stat(lockName(file)); err == nil {
		age = fmt.Sprintf(" (created %s ago)", s.now().Sub(fi.ModTime()).Round(time.Second))
	}
	if content, err := os.ReadFile(lockName(file)); err == nil {
		if owner, ok := parseLockOwner(content); ok {
			return fmt.Errorf("kubeconfig %s is locked: %s exists%s, held by securekapi process %d on %s, which may still be writing it; if it is not running, remove %s and run the command again",
				file, lockName(file), age, owner.pid, owner.host, lockName(file))
		}
	}
	return fmt.Errorf("kubeconfig %s is locked: %s exists%s, so another kubectl or securekapi may be writing it; if none is running, remove %s and run the command again",
		file, lockName(file), age, lockName(file))
}

func removeLock(file string) error {
	err := os.Remove(lockName(file))
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("unlock kubeconfig %s: %w; remove %s by hand, or kubectl will not write the file", file, err, lockName(file))
}

// lockName is kubectl's lock path for a kubeconfig file.
func lockName(file string) string { return file + ".lock" }

func (s *Store) lockTimeout() time.Duration {
	if s.LockTimeout <= 0 {
		return defaultLockTimeout
	}
	return s.LockTimeout
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Store) errOut() io.Writer {
	if s.ErrOut == nil {
		return os.Stderr
	}
	return s.ErrOut
}

func (s *Store) sleep(d time.Duration) {
	if s.Sleep == nil {
		time.Sleep(d)
		return
	}
	s.Sleep(d)
}
