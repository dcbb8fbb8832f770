// Package userfile decides which files and directories securekapi may take
// as the user's own: a trust file (a CA bundle) is read whole, once, from a
// regular file that only the user or root can change; the cache directory,
// where approvals and file-store tokens live, is private to the user and
// reached through directories no one else can rename.
//
// These rules exist because the exec stanza is attacker input (SECURITY.md):
// whoever writes a kubeconfig chooses its args and env, and with them file
// names. A name under /proc, a FIFO that answers each read differently, a
// file another user can rewrite between two reads, or a directory in which
// another user (or a checked-out repository) planted an approvals file must
// never decide where a token goes.
//
// It links the standard library only (and golang.org/x/sys/windows for
// Windows ACLs, which gofrs/flock links anyway): the small exec program runs it on
// every kubectl call.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxTrustFile bounds a trust file: CA bundles are kilobytes, and the
// system's whole bundle is about 200 KiB.
const MaxTrustFile = 1 << 20

// specialRoots are pseudo file systems whose files are not files: their
// content depends on who reads them and when (/proc/self/environ is the
// reader's own environment, which the exec stanza's env sets).
var specialRoots = []string{"/proc", "/sys", "/dev"}

// ReadTrustFile reads a CA bundle named by path, refusing anything that is
// not a regular, non-empty file of at most MaxTrustFile bytes that only the
// user or root can change, under a directory chain nobody else can change.
// It opens without blocking (a FIFO cannot stall it) and checks the opened
// file itself, so what it reads is what it checked.
func ReadTrustFile(path string) ([]byte, error) {
	data, err := readOwned(path, MaxTrustFile)
	if err == nil && len(data) == 0 {
		return nil, fmt.Errorf("%s is empty: a CA bundle is a non-empty PEM file", path)
	}
	return data, err
}

// MaxKubeconfig bounds a kubeconfig read by ReadKubeconfig: large fleets'
// files are megabytes.
const MaxKubeconfig = 64 << 20

// ReadKubeconfig reads a kubeconfig file by the rules of ReadTrustFile, so
// that what is read here is what kubectl read before: a file that only the
// user or root can change does not change between the two reads unless
// they change it.
func ReadKubeconfig(path string) ([]byte, error) {
	return readOwned(path, MaxKubeconfig)
}

func readOwned(path string, limit int64) ([]byte, error) {
	f, info, err := openOwned(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != info.Size() {
		return nil, fmt.Errorf("%s changed while it was read; securekapi reads trust only from a file that does not change under it", path)
	}
	return data, nil
}

// CheckTrustFile checks path by ReadTrustFile's rules without reading it:
// for a trust file named by its path alone (SSL_CERT_FILE, the system
// bundle, a few hundred kilobytes that crypto/x509 reads itself), whose
// content only the user or root can change.
func CheckTrustFile(path string) error {
	f, _, err := openOwned(path, MaxTrustFile)
	if err != nil {
		return err
	}
	return f.Close()
}

// openOwned opens path and checks the opened file: a regular file of at
// most limit bytes, the user's or root's, writable by no one else, under
// directories only they can change.
func openOwned(path string, limit int64) (*os.File, fs.FileInfo, error) {
	if err := refuseSpecial(path); err != nil {
		return nil, nil, err
	}
	if err := CheckPath(path); err != nil {
		return nil, nil, err
	}
	f, err := openNoFollowBlock(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := checkOpened(f, path, limit)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

func checkOpened(f *os.File, path string, limit int64) (fs.FileInfo, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): securekapi reads trust only from a plain file, which reads the same each time", path, kind(info.Mode()))
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%s holds %d bytes, more than the %d securekapi reads", path, info.Size(), limit)
	}
	if err := ownedSafely(path, info, trustFile); err != nil {
		return nil, err
	}
	return info, nil
}

// CheckPrivateDir checks that dir, if it exists, is a directory of the
// user's that no one else can write, reached through directories that only
// the user or root can change (or sticky ones, such as /tmp). A directory
// that does not exist yet is checked through its nearest existing
// ancestor, where securekapi will make it (0700). The approvals file and
// the file store live in such a directory, so nobody else can plant a file
// there or swap one.
func CheckPrivateDir(dir string) error {
	if dir == "" || !filepath.IsAbs(dir) {
		return fmt.Errorf("the cache directory %q is not an absolute path", dir)
	}
	if err := refuseSpecial(dir); err != nil {
		return err
	}
	// Every directory and link on the path as written, dir included (it
	// runs on every kubectl call: one walk, no second resolution).
	if err := CheckPath(dir); err != nil {
		return err
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // made by securekapi, 0700, in a directory checked above
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("the cache directory %s is not a directory", dir)
	}
	return ownedSafely(dir, info, privateDir)
}

// ReadPrivateFile reads a file in a private directory (the approvals
// file): a regular file of the user's that no one else may read or write,
// as securekapi writes it (0600), checked on the opened file itself, so a
// file renamed into place after a check is never what is read. A file
// checked out of a repository or unpacked from a download (0644) is
// refused. A missing file is fs.ErrNotExist: it approves nothing.
func ReadPrivateFile(path string) ([]byte, error) {
	if err := CheckPath(path); err != nil {
		return nil, err
	}
	f, err := openNoFollowBlock(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, kind(info.Mode()))
	}
	if err := ownedSafely(path, info, privateFile); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// CheckPath checks path as it is written, one component at a time: every
// directory on it is the user's or root's and writable by no one else
// (unless sticky), and every symbolic link on it is the user's or root's,
// its target checked the same way. So nobody else can swap what the path
// names between two reads, or make a missing file appear. The final
// component, when it is a file, is left to the caller, who checks the
// opened file.
func CheckPath(path string) error { return checkPath(path, 0) }

func checkPath(path string, depth int) error {
	if depth > 16 {
		return fmt.Errorf("%s: too many symbolic links", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	vol := filepath.VolumeName(abs)
	parts := strings.Split(strings.Trim(abs[len(vol):], string(filepath.Separator)), string(filepath.Separator))
	cur := vol + string(filepath.Separator)
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := filepath.Join(cur, part)
		info, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // cur, checked, is no one else's to add to
		}
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if err := linkSafe(next, info); err != nil {
				return err
			}
			target, err := os.Readlink(next)
			if err != nil {
				return err
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(cur, target)
			}
			return checkPath(filepath.Join(append([]string{target}, parts[i+1:]...)...), depth+1)
		case info.IsDir():
			if err := ancestorSafe(next, info); err != nil {
				return err
			}
		}
		cur = next
	}
	return nil
}

func refuseSpecial(path string) error {
	clean := filepath.ToSlash(filepath.Clean(path))
	for _, root := range specialRoots {
		if clean == root || strings.HasPrefix(clean, root+"/") {
			return fmt.Errorf("%s is under %s, whose files are not plain files: securekapi reads trust and approvals only from plain files", path, root)
		}
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	}
	return "not a plain file"
}
