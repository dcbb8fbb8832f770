package atomicfile

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/securekapi/securekapi/pkg/userfile"
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

// TestSecretsAreWrittenForTheUserAlone: a token or approvals file (mode
// 0600) written into a shared folder, whose ACL passes everyone's access
// down, still gets an ACL for the user and SYSTEM alone, and so does a
// directory Write makes; userfile reads both as private.
func TestSecretsAreWrittenForTheUserAlone(t *testing.T) {
	shared := t.TempDir()
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;" + user.User.Sid.String() + ")(A;OICI;FA;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, _ := sd.DACL()
	if err := windows.SetNamedSecurityInfo(shared, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(shared, "cache", "approvals.json")
	if err := WriteMode(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := userfile.ReadPrivateFile(path); err != nil {
		t.Errorf("a 0600 file written into a shared folder: %v", err)
	}
	if err := userfile.CheckPrivateDir(filepath.Dir(path)); err != nil {
		t.Errorf("the directory Write made in a shared folder: %v", err)
	}
}
