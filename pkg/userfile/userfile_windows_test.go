package userfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// setACL gives path the DACL in sddl, USER standing for the current user:
// the attacker's access, granted as a shared folder or an unpacked archive
// would grant it. Under wine, ACLs are not enforced (every wine process is
// one Unix user) and not even kept: wine 8.0 maps a DACL to the file's
// Unix mode bits and back, so an entry for Everyone survives as the
// "other" bits, while one for Users or Authenticated Users is dropped.
// A case whose entry did not survive skips, saying so; these tests check
// what securekapi reads and sets, not that Windows keeps another account out.
func setACL(t *testing.T, path, sddl string) {
	t.Helper()
	user, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := windows.SecurityDescriptorFromString(strings.ReplaceAll(sddl, "USER", user.String()))
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
	got, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{";BU)", ";AU)"} {
		if strings.Contains(sddl, who) && !strings.Contains(got.String(), who) {
			t.Skipf("this Windows did not keep the ACL entry %s (wine 8.0 keeps only what Unix mode bits can say: Everyone, not Users or Authenticated Users); got %s", who, got)
		}
	}
	if sddl == "D:NO_ACCESS_CONTROL" && got.String() != "D:NO_ACCESS_CONTROL" {
		t.Skipf("this Windows did not keep a null DACL (wine 8.0 keeps only Unix mode bits); got %s", got)
	}
}

// isWine: wine's ntdll exports wine_get_version.
func isWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// Others' access, as SDDL entries: Everyone (WD), Users (BU) and
// Authenticated Users (AU).
const (
	everyoneReads   = "(A;OICI;0x1200a9;;;WD)"
	usersModify     = "(A;OICI;0x1301bf;;;BU)"
	everyoneAll     = "(A;OICI;FA;;;WD)"
	authUsersAppend = "(A;;0x4;;;AU)" // add a subdirectory: plant a cache dir
)

func TestMkdirPrivateGivesTheUserAndSystemAlone(t *testing.T) {
	base := t.TempDir()
	setACL(t, base, "D:P(A;OICI;FA;;;USER)"+everyoneAll) // a shared folder
	dir := filepath.Join(base, "a", "securekapi")
	if err := MkdirPrivate(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := ownedSafely(d, nil, privateFile, ids{}); err != nil {
			t.Errorf("%s made by MkdirPrivate: %v", d, err)
		}
	}
	if err := CheckPrivateDir(dir); err != nil {
		t.Errorf("CheckPrivateDir: %v", err)
	}
}

func TestCheckPrivateDirRefusesWhatOthersCanChange(t *testing.T) {
	for name, sddl := range map[string]string{
		"everyone full control":       "D:P(A;OICI;FA;;;USER)" + everyoneAll,
		"users modify":                "D:P(A;OICI;FA;;;USER)" + usersModify,
		"authenticated users add dir": "D:P(A;OICI;FA;;;USER)" + authUsersAppend,
		"no ACL at all":               "D:NO_ACCESS_CONTROL",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			setACL(t, dir, sddl)
			err := CheckPrivateDir(dir)
			if err == nil {
				t.Fatalf("a cache directory with %s was accepted", sddl)
			}
			t.Log(err)
		})
	}
	// Readable by others but writable by no one else, as %LOCALAPPDATA%
	// under wine and a 0755 directory on Unix: accepted, as on Unix.
	dir := t.TempDir()
	setACL(t, dir, "D:P(A;OICI;FA;;;USER)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"+everyoneReads)
	if err := CheckPrivateDir(dir); err != nil {
		t.Errorf("a directory others can only read: %v", err)
	}
}

func TestMakePrivateDirTightensADirectoryOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	setACL(t, dir, "D:P(A;OICI;FA;;;USER)"+everyoneReads)
	if err := MakePrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := ownedSafely(dir, nil, privateFile, ids{}); err != nil {
		if isWine() {
			t.Skipf("wine 8.0 maps an ACL to Unix mode bits and only adds bits, so no ACL can take Everyone's read away: %v", err)
		}
		t.Errorf("after MakePrivateDir: %v", err)
	}
}

func TestReadPrivateFileRefusesWhatOthersCanReadOrChange(t *testing.T) {
	dir := t.TempDir()
	write := func(t *testing.T, name, sddl string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		setACL(t, p, sddl)
		return p
	}
	ok := filepath.Join(dir, "ok.json")
	f, err := CreatePrivate(ok) // as atomicfile writes approvals
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{}")
	f.Close()
	if data, err := ReadPrivateFile(ok); err != nil || string(data) != "{}" {
		t.Errorf("a file made by CreatePrivate: %q, %v", data, err)
	}
	if _, err := CreatePrivate(ok); err == nil {
		t.Error("CreatePrivate opened a file that exists")
	}
	for name, sddl := range map[string]string{
		"everyone reads": "D:P(A;;FA;;;USER)" + everyoneReads,
		"users modify":   "D:P(A;;FA;;;USER)" + usersModify,
		"no ACL at all":  "D:NO_ACCESS_CONTROL",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadPrivateFile(write(t, strings.ReplaceAll(name, " ", "-")+".json", sddl))
			if err == nil {
				t.Fatalf("an approvals file with %s was accepted", sddl)
			}
			t.Log(err)
		})
	}
}

func TestReadPrivateFileRefusesAnotherAccountsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "approvals.json")
	if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	guests, err := windows.CreateWellKnownSid(windows.WinBuiltinGuestsSid)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(p, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION, guests, nil, nil, nil); err != nil {
		t.Skipf("giving a file to another account needs SeRestorePrivilege, which this session lacks: %v", err)
	}
	if sd, err := windows.GetNamedSecurityInfo(p, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION); err == nil {
		if owner, _, _ := sd.Owner(); owner == nil || !owner.Equals(guests) {
			t.Skipf("this Windows did not keep the new owner (wine 8.0 gives every file its one Unix user's SID); owner is %v", owner)
		}
	}
	if _, err := ReadPrivateFile(p); err == nil || !strings.Contains(err.Error(), "not to you") {
		t.Fatalf("a file owned by Guests: %v, want it refused as not yours", err)
	}
}
