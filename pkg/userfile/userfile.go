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
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
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
	return readExactly(f, path, info.Size())
}

// readExactly reads the size bytes that f's fstat reported, in one buffer
// of that size (no growing copies: kubeconfigs of large fleets are
// megabytes, read on every kubectl call), and refuses a file that then
// holds fewer or more.
func readExactly(f *os.File, path string, size int64) ([]byte, error) {
	data := make([]byte, size+1) // the extra byte sees a file that grew
	n, err := io.ReadFull(f, data)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		data = data[:n]
	case err != nil:
		return nil, err
	}
	if int64(len(data)) != size {
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
	me := currentIDs()
	if _, err := checkPath(path, me, 0); err != nil {
		return nil, nil, err
	}
	f, info, err := openRegular(path, ": securekapi reads trust only from a plain file, which reads the same each time")
	if err != nil {
		return nil, nil, err
	}
	if err := checkOpened(path, info, limit, me); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

func checkOpened(path string, info fs.FileInfo, limit int64, me ids) error {
	if info.Size() > limit {
		return fmt.Errorf("%s holds %d bytes, more than the %d securekapi reads", path, info.Size(), limit)
	}
	return ownedSafely(path, info, trustFile, me)
}

// openRegular opens path without blocking (a FIFO cannot stall it) and
// keeps it only when the opened file is a regular one; why ends the
// refusal, saying what the caller reads.
func openRegular(path, why string) (*os.File, fs.FileInfo, error) {
	f, err := openNoFollowBlock(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file (%s)%s", path, kind(info.Mode()), why)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
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
	// runs on every kubectl call: one walk, no second resolution; the
	// walk's own lstat of dir, or of what its links lead to, is dir's).
	me := currentIDs()
	info, err := checkPath(dir, me, 0)
	switch {
	case err != nil:
		return err
	case info == nil:
		return nil // made by securekapi, 0700, in a directory checked above
	case !info.IsDir():
		return fmt.Errorf("the cache directory %s is not a directory", dir)
	}
	return ownedSafely(dir, info, privateDir, me)
}

// ReadPrivateFile reads a file in a private directory (the approvals
// file): a regular file of the user's that no one else may read or write,
// as securekapi writes it (0600), checked on the opened file itself, so a
// file renamed into place after a check is never what is read. A file
// checked out of a repository or unpacked from a download (0644) is
// refused. A missing file is fs.ErrNotExist: it approves nothing.
func ReadPrivateFile(path string) ([]byte, error) {
	me := currentIDs()
	if _, err := checkPath(path, me, 0); err != nil {
		return nil, err
	}
	f, info, err := openRegular(path, "")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := ownedSafely(path, info, privateFile, me); err != nil {
		return nil, err
	}
	return readExactly(f, path, info.Size())
}

// CheckPath checks path as it is written, one component at a time: every
// directory on it is the user's or root's and writable by no one else
// (unless sticky), and every symbolic link on it is the user's or root's,
// its target checked the same way. So nobody else can swap what the path
// names between two reads, or make a missing file appear. The final
// component, when it is a file, is left to the caller, who checks the
// opened file.
func CheckPath(path string) error {
	_, err := checkPath(path, currentIDs(), 0)
	return err
}

// checkPath is CheckPath for the user me, the one lookup of the caller's
// ids for the whole walk. It returns the lstat of what path names, after
// its links, or nil when some component does not exist.
//
// It walks the components in the kernel's order and never cleans ".." as
// text: the kernel applies ".." to the directory a link led to, so
// "mine/link/../ca.pem" names a file beside the link's target, not
// "mine/ca.pem" (filepath.Clean's answer). A link restarts the walk at its
// target with the rest of the path as written, ".." included; the
// directories walked so far are real ones, so ".." over them is their
// parent.
func checkPath(path string, me ids, depth int) (fs.FileInfo, error) {
	if depth > 16 {
		return nil, fmt.Errorf("%s: too many symbolic links", path)
	}
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		path = wd + string(filepath.Separator) + path
	}
	vol := filepath.VolumeName(path)
	root := vol + string(filepath.Separator)
	// cur is the walked prefix: real directories only. While the path is
	// regular (no "", "." or ".." after the root) the prefix is a slice of
	// path, not a string joined again for every component.
	cur, regular := root, true
	var info fs.FileInfo
	for start := len(vol); start < len(path); {
		end := len(path)
		if i := strings.IndexFunc(path[start:], isSeparator); i >= 0 {
			end = start + i
		}
		elem, rest := path[start:end], ""
		if end < len(path) {
			rest = path[end+1:]
		}
		start = end + 1
		switch elem {
		case "", ".":
			regular = regular && cur == root && elem == ""
			continue
		case "..":
			cur, regular, info = filepath.Dir(cur), false, nil
			continue
		}
		next := path[:end]
		if !regular {
			next = filepath.Join(cur, elem) // cur and elem hold no ".." to clean
		}
		// The walked prefix holds no link and no "..", so its text is
		// where the kernel is: a link or ".." that leads under /proc,
		// /sys or /dev is caught here, not only a path that says so.
		if root, ok := specialRoot(next); ok {
			return nil, fmt.Errorf("%s leads to %s, under %s, whose files are not plain files: securekapi reads trust and approvals only from plain files", path, next, root)
		}
		var err error
		info, err = os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			// Its directory, checked, is no one else's to add to (or
			// sticky: then a name someone else adds is theirs, which the
			// next check refuses). Nothing after a missing name is looked
			// at, so a ".." after it could lead anywhere: refused.
			if hasDotDot(rest) {
				return nil, fmt.Errorf("%s: %s does not exist, and the path climbs back out of it with \"..\"; name the file by a path without \"..\"", path, next)
			}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if err := linkSafe(next, info, me); err != nil {
				return nil, err
			}
			target, err := os.Readlink(next)
			if err != nil {
				return nil, err
			}
			if !filepath.IsAbs(target) {
				target = cur + string(filepath.Separator) + target
			}
			if rest != "" {
				target += string(filepath.Separator) + rest
			}
			return checkPath(target, me, depth+1)
		case info.IsDir():
			if err := ancestorSafe(next, info, me); err != nil {
				return nil, err
			}
		}
		cur = next
	}
	if info == nil { // the root, or a path that ends in ".."
		return os.Lstat(cur)
	}
	return info, nil
}

func isSeparator(r rune) bool { return r < 0x80 && os.IsPathSeparator(uint8(r)) }

func refuseSpecial(path string) error {
	if root, ok := specialRoot(path); ok {
		return fmt.Errorf("%s is under %s, whose files are not plain files: securekapi reads trust and approvals only from plain files", path, root)
	}
	return nil
}

// specialRoot reports the special root (/proc, /sys, /dev) path is under,
// by its text.
func specialRoot(path string) (string, bool) {
	clean := filepath.ToSlash(filepath.Clean(path))
	for _, root := range specialRoots {
		if clean == root || strings.HasPrefix(clean, root+"/") {
			return root, true
		}
	}
	return "", false
}

// hasDotDot reports whether rest, the path after a component, holds a ".."
// element.
func hasDotDot(rest string) bool {
	for rest != "" {
		elem := rest
		if i := strings.IndexFunc(rest, isSeparator); i >= 0 {
			elem, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if elem == ".." {
			return true
		}
	}
	return false
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

// MaxPlainFile bounds ReadPlainFile: CI tokens and client secrets are a
// few kilobytes.
const MaxPlainFile = 1 << 20

// ReadPlainFile reads a file an exec stanza names for a CI job's token or
// a client secret: a regular file of at most MaxPlainFile bytes, opened
// without blocking. Its owner and mode are not checked (secret mounts and
// projected tokens belong to root or the runner, 0644 or 0440); where it
// is read from is part of the approval instead. What it refuses is what
// would stall or exhaust the call on every kubectl run: a FIFO, a device
// such as /dev/zero, anything under /proc.
func ReadPlainFile(path string) ([]byte, error) {
	if err := refuseSpecial(path); err != nil {
		return nil, err
	}
	f, _, err := openRegular(path, ": securekapi reads a CI token or client secret only from a plain file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPlainFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxPlainFile {
		return nil, fmt.Errorf("%s holds more than the %d bytes securekapi reads for a CI token or client secret", path, MaxPlainFile)
	}
	return data, nil
}
