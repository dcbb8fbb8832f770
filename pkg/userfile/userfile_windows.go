//go:build windows

package userfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows files carry ACLs, not modes. The private rules (the cache
// directory, the approvals file) read the owner and the DACL: besides the
// user, only SYSTEM and the Administrators may hold rights, as they can
// take any file anyway. Trust files, the directories above them and links
// keep only the kind and size checks on Windows (SECURITY.md says so): a CA
// on a share or a FAT drive has no ACL of the user's to read.
func openNoFollowBlock(path string) (*os.File, error) { return os.Open(path) }

type rule int

const (
	trustFile rule = iota
	privateDir
	privateFile
)

// Access rights that let someone change a file or directory: write or
// append data (add a file or a subdirectory), delete it or a child, or
// rewrite its ACL or owner (and then anything else).
const writeRights windows.ACCESS_MASK = windows.FILE_WRITE_DATA | windows.FILE_APPEND_DATA | fileDeleteChild |
	windows.DELETE | windows.WRITE_DAC | windows.WRITE_OWNER | windows.GENERIC_WRITE | windows.GENERIC_ALL

const fileDeleteChild = 0x40 // FILE_DELETE_CHILD, which x/sys/windows does not name

// readRights let someone read a file's content.
const readRights windows.ACCESS_MASK = windows.FILE_READ_DATA | windows.GENERIC_READ | windows.MAXIMUM_ALLOWED

// ownedSafely reads path's owner and DACL by name. For a private file the
// caller holds it open, and Go opens without FILE_SHARE_DELETE, so nobody
// can rename another file into its place meanwhile: the name still names
// what was opened.
func ownedSafely(path string, _ fs.FileInfo, r rule, _ ids) error {
	if r == trustFile {
		return nil
	}
	user, err := currentUser()
	if err != nil {
		return err
	}
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read the ACL of %s: %w", path, err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("read the owner of %s: %w", path, err)
	}
	if owner == nil || !trusted(owner, user) {
		return fmt.Errorf("%s belongs to %s, not to you (%s): securekapi keeps approvals and tokens only in files and directories of your own", path, account(owner), account(user))
	}
	dacl, _, err := sd.DACL()
	if err != nil && !errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) {
		return fmt.Errorf("read the ACL of %s: %w", path, err)
	}
	if dacl == nil { // no DACL at all: everyone may do anything
		return fmt.Errorf("%s has no ACL, so everyone can read and change it: %s", path, fixACL(path, r))
	}
	denied := writeRights
	if r == privateFile {
		denied |= readRights
	}
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return fmt.Errorf("read the ACL of %s: %w", path, err)
		}
		// Deny entries only take rights away; inherit-only ones apply to
		// children, which are checked on their own.
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart)) // the SID starts where SidStart is
		if trusted(sid, user) || ace.Mask&denied == 0 {
			continue
		}
		what := "change"
		if ace.Mask&writeRights == 0 {
			what = "read"
		}
		return fmt.Errorf("%s lets %s %s it: %s", path, account(sid), what, fixACL(path, r))
	}
	return nil
}

func fixACL(path string, r rule) string {
	if r == privateFile {
		return "securekapi writes it for you alone and reads it only while no one else can read or change it (a file from a repository or an archive is not yours to trust); remove it and approve again"
	}
	return fmt.Sprintf("securekapi keeps approvals and tokens only where no one else can change them; remove the other accounts' access (icacls %q /inheritance:r /grant:r \"%%USERNAME%%:(OI)(CI)F\") or set SECUREKAPI_CACHE_DIR to a directory of your own", path)
}

func ancestorSafe(string, fs.FileInfo, ids) error { return nil }

func linkSafe(string, fs.FileInfo, ids) error { return nil }

// ids is what the Unix checks look up once per walk (the uid and gid);
// ownedSafely here reads the process token's SID itself, when a private
// rule needs it.
type ids struct{}

func currentIDs() ids { return ids{} }

// trusted: the user, or an account that can take any file anyway (SYSTEM,
// the Administrators group, which owns what an elevated shell creates).
func trusted(sid, user *windows.SID) bool {
	return sid.Equals(user) || sid.IsWellKnown(windows.WinLocalSystemSid) || sid.IsWellKnown(windows.WinBuiltinAdministratorsSid)
}

func currentUser() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("find who you are: %w", err)
	}
	return u.User.Sid, nil
}

// account names a SID as DOMAIN\name when Windows knows it, else as the
// SID itself.
func account(sid *windows.SID) string {
	if sid == nil {
		return "no one"
	}
	if name, domain, _, err := sid.LookupAccount(""); err == nil {
		if domain == "" {
			return name
		}
		return domain + `\` + name
	}
	return sid.String()
}

// ownerOnly is the security descriptor securekapi gives what it creates
// for the user alone: full control for the user and SYSTEM (which backs up
// and indexes profiles; it can take any file anyway), nothing for anyone
// else. P protects it from the parent's inherited entries (a %LOCALAPPDATA%
// on a shared drive, a SECUREKAPI_CACHE_DIR under C:\). OICI passes it
// down to what is created inside. The user's own SID, not OWNER RIGHTS:
// an elevated shell's files are owned by the Administrators group, and the
// user must keep access to them from an ordinary one.
func ownerOnly() (*windows.SECURITY_DESCRIPTOR, error) {
	user, err := currentUser()
	if err != nil {
		return nil, err
	}
	return windows.SecurityDescriptorFromString("D:P(A;OICI;FA;;;" + user.String() + ")(A;OICI;FA;;;SY)")
}

// MkdirPrivate makes dir and any missing parent, each created with an ACL
// for the user and SYSTEM alone (as 0700 does on Unix); directories that
// exist are left as they are.
func MkdirPrivate(dir string) error {
	info, err := os.Stat(dir)
	if err == nil {
		if !info.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: windows.ERROR_ALREADY_EXISTS}
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirPrivate(parent); err != nil {
			return err
		}
	}
	sd, err := ownerOnly()
	if err != nil {
		return err
	}
	name, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	if err := windows.CreateDirectory(name, sa); err != nil && !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return nil
}

// SetOwnerOnly gives an existing path the ACL MkdirPrivate gives a
// directory: the user and SYSTEM alone, nothing inherited. MakePrivateDir
// tightens a token directory with it. (wine maps an ACL to Unix mode bits
// and only ever adds to them there, so under wine it cannot take access
// away.)
func SetOwnerOnly(path string) error {
	sd, err := ownerOnly()
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("make %s yours alone (its ACL): %w", path, err)
	}
	return nil
}

// CreatePrivate creates the new file path, failing if it exists, with the
// ACL MkdirPrivate gives a directory, set by CreateFile itself: the file is
// never, even for a moment, open to whatever the directory passes down (a
// shared folder passes down everyone's access).
func CreatePrivate(path string) (*os.File, error) {
	sd, err := ownerOnly()
	if err != nil {
		return nil, err
	}
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE,
		sa, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// MakePrivateDir makes sure dir exists and only the user (and SYSTEM)
// can enter it: it creates it so, or gives an existing directory of the
// user's that others can read the ACL MkdirPrivate gives.
func MakePrivateDir(dir string) error {
	if err := MkdirPrivate(dir); err != nil {
		return err
	}
	if ownedSafely(dir, nil, privateFile, ids{}) == nil {
		return nil
	}
	if err := SetOwnerOnly(dir); err != nil {
		return fmt.Errorf("%s is open to other accounts and could not be made yours alone: %w; set SECUREKAPI_CACHE_DIR to a directory of your own", dir, err)
	}
	return ownedSafely(dir, nil, privateDir, ids{})
}

// Protection says what keeps the files securekapi writes for the user
// alone, for status and notices.
const Protection = "ACL: you and SYSTEM only"
