//go:build unix

package userfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollowBlock opens path for reading without waiting for a writer
// (O_NONBLOCK: a FIFO opens at once, and is then refused as no regular file).
func openNoFollowBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// The rules ownedSafely applies.
type rule int

const (
	trustFile   rule = iota // the user's or root's, writable by no one else
	privateDir              // the user's, writable by no one else
	privateFile             // the user's, readable and writable by no one else
)

// ids are the user's uid and gid, which the checks compare owners with,
// looked up once per check (each lookup is a system call, and a walk makes
// dozens).
type ids struct{ uid, gid uint32 }

func currentIDs() ids { return ids{uid: uint32(os.Getuid()), gid: uint32(os.Getgid())} }

func ownedSafely(path string, info fs.FileInfo, r rule, me ids) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := me.uid
	perm := info.Mode().Perm()
	switch {
	case r != trustFile && st.Uid != uid:
		return fmt.Errorf("%s belongs to uid %d, not to you (uid %d): securekapi keeps approvals and tokens only in files and directories of your own", path, st.Uid, uid)
	case r == trustFile && st.Uid != uid && st.Uid != 0:
		return fmt.Errorf("%s belongs to uid %d, neither you (uid %d) nor root: another user could change it", path, st.Uid, uid)
	case r == privateFile && perm&0o077 != 0:
		return fmt.Errorf("%s has mode %04o: securekapi writes it 0600 and reads it only while no one else can read or write it (a file from a repository or an archive is not yours to trust)", path, perm)
	case perm&writableByOthers(st, me) != 0:
		return fmt.Errorf("%s has mode %04o: others can change it (chmod go-w %s)", path, perm, path)
	}
	return nil
}

// ancestorSafe: a directory above a trust file or the cache directory must
// be the user's or root's, and writable by no one else unless sticky (then
// others cannot rename what is in it).
func ancestorSafe(dir string, info fs.FileInfo, me ids) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	uid := me.uid
	if st.Uid != uid && st.Uid != 0 {
		return fmt.Errorf("%s belongs to uid %d, neither you (uid %d) nor root: its owner could replace what is in it", dir, st.Uid, uid)
	}
	if info.Mode().Perm()&writableByOthers(st, me) != 0 && info.Mode()&fs.ModeSticky == 0 {
		// A container started with umask 0 makes such directories; the
		// fix is the user's, and the message says it.
		return fmt.Errorf("%s has mode %04o: others could replace what is in it (chmod go-w %s, or set SECUREKAPI_CACHE_DIR to a directory only you can write)", dir, info.Mode().Perm(), dir)
	}
	return nil
}

// writableByOthers are the write bits that let someone else change a file
// or directory: group and other, except the group bit when the group is
// the user's own primary group (Debian's and Ubuntu's USERGROUPS_ENAB
// gives every user a private group and umask 002, so ~/.kube is 0775).
func writableByOthers(st *syscall.Stat_t, me ids) fs.FileMode {
	if st.Gid == me.gid && st.Uid == me.uid {
		return 0o002
	}
	return 0o022
}

// linkSafe: a symbolic link on a checked path must be the user's or
// root's (its mode is always 0777, so only its owner can say).
func linkSafe(link string, info fs.FileInfo, me ids) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := me.uid; st.Uid != uid && st.Uid != 0 {
		return fmt.Errorf("%s is a symbolic link of uid %d, neither you (uid %d) nor root: its owner could point it elsewhere", link, st.Uid, uid)
	}
	return nil
}

// MkdirPrivate makes dir and any missing parent 0700; directories that
// exist are left as they are.
func MkdirPrivate(dir string) error { return os.MkdirAll(dir, 0o700) }

// MakePrivateDir makes sure dir exists and only the user can enter it: it
// creates it 0700, or tightens an existing directory that others could
// read.
func MakePrivateDir(dir string) error {
	if err := MkdirPrivate(dir); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("%s is open to other users (mode %04o) and could not be made private: %w; run `chmod 700 %s` or set SECUREKAPI_CACHE_DIR", dir, fi.Mode().Perm(), err, dir)
	}
	return nil
}

// Protection says what keeps the files securekapi writes for the user
// alone, for status and notices.
const Protection = "mode 0600"
