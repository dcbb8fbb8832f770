package atomicfile

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriteGivesUpOnAFileHeldOpen: a file kept open past the retry bound is
// a clear error, and the old content and no temp file remain.
func TestWriteGivesUpOnAFileHeldOpen(t *testing.T) {
	defer func(w time.Duration) { renameWait = w }(renameWait)
	renameWait = 200 * time.Millisecond
	path := filepath.Join(t.TempDir(), "config")
	if err := Write(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	holdOpen(t, path, time.Minute)
	err := Write(path, []byte("new"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "another program keeps the file open") || !strings.Contains(err.Error(), "write "+path) {
		t.Fatalf("err = %v, want a write error saying another program keeps %s open", err, path)
	}
	if got := read(t, path); got != "old" {
		t.Errorf("content = %q, want the old content kept", got)
	}
	assertNoStrays(t, filepath.Dir(path))
}
