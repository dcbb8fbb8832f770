package kubeconfig

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Ctrl-C or a SIGTERM while securekapi holds kubeconfig locks must not leave
// them behind. Signals are delivered to the process, so the locks to release
// are tracked per process: while any is held, one watcher waits for SIGINT
// or SIGTERM, lets a write in progress finish (a kubeconfig is never left
// half-replaced), removes every held lock and then dies of the signal as it
// would have.
var heldLocks = struct {
	sync.Mutex
	files map[string]bool
	stop  chan struct{} // closes the watcher; nil while no lock is held
	// writing is read-locked around each write, so the watcher waits for it.
	writing sync.RWMutex
}{files: map[string]bool{}}

// createLockFile creates file's lock holding content, with O_EXCL
// semantics. It is registered for release from the moment it exists: the
// watcher runs before the create, and both happen under heldLocks, so a
// signal never finds a lock of ours unregistered, nor removes one that is
// not ours.
func createLockFile(file string, content []byte) error {
	heldLocks.Lock()
	defer heldLocks.Unlock()
	if heldLocks.stop == nil {
		heldLocks.stop = make(chan struct{})
		signals := make(chan os.Signal, 1)
		signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
		go watchSignals(signals, heldLocks.stop)
	}
	if err := createExclusive(lockName(file), content); err != nil {
		stopWatchingIfIdle()
		return err
	}
	heldLocks.files[file] = true
	return nil
}

// releaseLock removes file's lock and unregisters it, as one step for the
// watcher: a signal in between would remove a lock someone else took since.
func releaseLock(file string) error {
	heldLocks.Lock()
	defer heldLocks.Unlock()
	delete(heldLocks.files, file)
	stopWatchingIfIdle()
	return removeLock(file)
}

// stopWatchingIfIdle stops the watcher when no lock is held. The caller
// holds heldLocks.
func stopWatchingIfIdle() {
	if len(heldLocks.files) == 0 && heldLocks.stop != nil {
		close(heldLocks.stop)
		heldLocks.stop = nil
	}
}

func watchSignals(signals chan os.Signal, stop chan struct{}) {
	defer signal.Stop(signals)
	select {
	case <-stop:
	case sig := <-signals:
		heldLocks.writing.Lock() // never unlocked: the process ends here
		heldLocks.Lock()
		for file := range heldLocks.files {
			os.Remove(lockName(file))
		}
		signal.Stop(signals)
		dieOf(sig)
	}
}

// whileWriting runs write so that a signal waits for it to finish.
func whileWriting(write func() error) error {
	heldLocks.writing.RLock()
	defer heldLocks.writing.RUnlock()
	return write()
}
