package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// renameWait bounds how long rename retries while another program has the
// target open; a variable for tests.
var renameWait = 2 * time.Second

const errorSharingViolation = syscall.Errno(32) // ERROR_SHARING_VIOLATION

// rename replaces newpath with oldpath. Windows refuses to replace a file
// that another process has open without FILE_SHARE_DELETE (kubectl reading
// kubeconfig, our fast path reading a token file, an antivirus or the
// search indexer): it answers ERROR_ACCESS_DENIED or
// ERROR_SHARING_VIOLATION. Those readers let go within milliseconds, so
// rename retries with a growing pause for up to renameWait, as Go's own
// cmd/go does (cmd/internal/robustio), then says what held it up. It does
// not name the process: that needs the Restart Manager (rstrtmgr.dll
// RmGetList), which wine 8.0 stubs to "no process", so no test here could
// see it work; the message names the file and the usual holders instead.
func rename(oldpath, newpath string) error {
	start := time.Now()
	pause := time.Millisecond
	for {
		err := os.Rename(oldpath, newpath)
		if err == nil || !heldOpen(err) {
			return err
		}
		if waited := time.Since(start); waited+pause > renameWait {
			return fmt.Errorf("%w; another program keeps the file open (Windows cannot replace an open file), still after %s: close it (an editor, a kubectl still running, a sync tool or antivirus scanning it) and try again", err, waited.Round(time.Millisecond))
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

func heldOpen(err error) bool {
	return errors.Is(err, syscall.ERROR_ACCESS_DENIED) || errors.Is(err, errorSharingViolation)
}
