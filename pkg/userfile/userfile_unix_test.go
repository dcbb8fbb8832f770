//go:build unix

package userfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

func write(t testing.TB, path, data string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestReadTrustFileReadsAPlainFileOfYours(t *testing.T) {
	path := write(t, filepath.Join(t.TempDir(), "ca.pem"), pem, 0o644)
	got, err := ReadTrustFile(path)
	if err != nil || string(got) != pem {
		t.Fatalf("ReadTrustFile = %q, %v", got, err)
	}
}

// The attacks of issue #23: a CA file that answers each read differently
// (a FIFO), one whose content is the reader's own environment
// (/proc/self/environ, set by the exec stanza's env), and files another
// user can change between two reads.
func TestReadTrustFileRefusesWhatIsNotAPlainFileOfYours(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"fifo":           fifo,
		"proc environ":   "/proc/self/environ",
		"dev":            "/dev/null",
		"empty":          write(t, filepath.Join(dir, "empty.pem"), "", 0o644),
		"world writable": write(t, filepath.Join(dir, "ww.pem"), pem, 0o646),
		"a directory":    dir,
	}
	if os.Getuid() == 0 { // a group of others may write it
		gw := write(t, filepath.Join(dir, "gw.pem"), pem, 0o664)
		if err := os.Chown(gw, -1, 65534); err != nil {
			t.Fatal(err)
		}
		cases["writable by another group"] = gw
	}
	big := filepath.Join(dir, "big.pem")
	write(t, big, strings.Repeat("x", MaxTrustFile+1), 0o644)
	cases["too big"] = big
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := ReadTrustFile(path); done <- err }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatalf("ReadTrustFile(%s) accepted it", path)
				}
				t.Log(err)
			case <-time.After(5 * time.Second):
				t.Fatalf("ReadTrustFile(%s) blocked", path)
			}
		})
	}
}

func TestReadTrustFileRefusesAnotherUsersFileOrDirectory(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("making a file of another user needs root")
	}
	dir := t.TempDir()
	theirs := write(t, filepath.Join(dir, "theirs.pem"), pem, 0o644)
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTrustFile(theirs); err == nil {
		t.Fatal("another user's CA file was accepted")
	}
	// Mine, but in a directory another user owns: they can swap it.
	theirDir := filepath.Join(dir, "their-dir")
	if err := os.Mkdir(theirDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mine := write(t, filepath.Join(theirDir, "ca.pem"), pem, 0o644)
	if err := os.Chown(theirDir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTrustFile(mine); err == nil {
		t.Fatal("a CA file in another user's directory was accepted")
	}
	// A link of mine to a file in their directory is theirs too.
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(mine, link); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTrustFile(link); err == nil {
		t.Fatal("a link into another user's directory was accepted")
	}
}

func TestCheckPrivateDir(t *testing.T) {
	base := t.TempDir()
	mkdir := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := CheckPrivateDir(mkdir("private", 0o700)); err != nil {
		t.Errorf("a 0700 directory of yours: %v", err)
	}
	if err := CheckPrivateDir(filepath.Join(mkdir("parent", 0o700), "not-yet", "cache")); err != nil {
		t.Errorf("a directory securekapi will make: %v", err)
	}
	// Writable by the user's own private group (umask 002), not another.
	if err := CheckPrivateDir(mkdir("own-group", 0o775)); err != nil {
		t.Errorf("a directory writable by your own group: %v", err)
	}
	if os.Getuid() == 0 {
		shared := mkdir("shared", 0o775)
		if err := os.Chown(shared, -1, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckPrivateDir(shared); err == nil {
			t.Error("a directory writable by another group was accepted")
		}
	}
	if err := CheckPrivateDir("relative/cache"); err == nil {
		t.Error("a relative path was accepted")
	}
	open := mkdir("open", 0o777)
	if err := CheckPrivateDir(filepath.Join(open, "cache")); err == nil || !strings.Contains(err.Error(), "chmod go-w "+open) {
		t.Errorf("a directory to be made in a world-writable, non-sticky one: %v, want a refusal that says chmod go-w %s", err, open)
	}
	if os.Getuid() == 0 {
		theirs := mkdir("theirs", 0o700)
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckPrivateDir(theirs); err == nil {
			t.Error("another user's directory was accepted")
		}
	}
}

func TestReadPrivateFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadPrivateFile(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if data, err := ReadPrivateFile(write(t, filepath.Join(dir, "ok.json"), "{}", 0o600)); err != nil || string(data) != "{}" {
		t.Errorf("a 0600 file: %q, %v", data, err)
	}
	if _, err := ReadPrivateFile(write(t, filepath.Join(dir, "gw.json"), "{}", 0o620)); err == nil {
		t.Error("a group-writable file was accepted")
	}
	// What a checked-out repository or an unpacked archive holds.
	if _, err := ReadPrivateFile(write(t, filepath.Join(dir, "repo.json"), "{}", 0o644)); err == nil {
		t.Error("a 0644 file was accepted")
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateFile(fifo); err == nil {
		t.Error("a FIFO was accepted")
	}
}

// The review's attacks on the path (issue #23): another user's directory
// or symbolic link anywhere on the path as written lets them swap what it
// names after kubectl read it, or make a missing file appear.
func TestCheckPathAsWritten(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("making another user's directory needs root")
	}
	base := t.TempDir()
	mine := filepath.Join(base, "mine")
	if err := os.Mkdir(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	file := write(t, filepath.Join(mine, "kubeconfig"), "{}", 0o600)
	if err := CheckPath(file); err != nil {
		t.Fatalf("a file in a directory of yours: %v", err)
	}
	theirs := filepath.Join(base, "theirs")
	if err := os.Mkdir(theirs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := CheckPath(filepath.Join(theirs, "gone-now")); err == nil {
		t.Error("a missing file in another user's directory passed: they can make it appear")
	}
	link := filepath.Join(theirs, "kc")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := CheckPath(link); err == nil {
		t.Error("a symbolic link in another user's directory passed: they can point it elsewhere")
	}
	myLink := filepath.Join(mine, "kc-link")
	if err := os.Symlink(link, myLink); err != nil {
		t.Fatal(err)
	}
	if err := CheckPath(myLink); err == nil {
		t.Error("a link of yours to a link in another user's directory passed")
	}
	if _, err := ReadKubeconfig(myLink); err == nil {
		t.Error("ReadKubeconfig read through another user's link")
	}
}

// CheckPrivateDir judges what the cache directory's path leads to, links
// followed, by the walk's own lstat of it: a link of yours to a private
// directory is that directory; a link to a file, or to another user's
// directory, is refused as they would be.
func TestCheckPrivateDirThroughLinks(t *testing.T) {
	base := t.TempDir()
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	link := func(name, target string) string {
		p := filepath.Join(base, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, dir := range map[string]string{
		"absolute link": link("abs", private),
		"relative link": link("rel", "private"),
		"link to link":  link("chain", filepath.Join(base, "rel")),
		"dangling link": link("dangling", filepath.Join(base, "not-yet")),
	} {
		if err := CheckPrivateDir(dir); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	file := write(t, filepath.Join(base, "file"), "", 0o600)
	if err := CheckPrivateDir(link("to-file", file)); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a link to a file: %v", err)
	}
	if err := CheckPrivateDir(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
	if os.Getuid() == 0 {
		theirs := filepath.Join(base, "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckPrivateDir(link("to-theirs", theirs)); err == nil {
			t.Error("a link of yours to another user's directory was accepted")
		}
	}
}

// TestDotDotAfterALinkIsTheKernels: the kernel applies ".." to the
// directory a link led to, so mine/link/../ca.pem opens a file beside the
// link's target. The check once cleaned ".." as text and judged
// mine/ca.pem (missing, so accepted) while the read took ca.pem from a
// directory anyone can write; now it walks as the kernel does. ".." over
// real directories is still fine.
func TestDotDotAfterALinkIsTheKernels(t *testing.T) {
	base := t.TempDir()
	mine := filepath.Join(base, "mine")
	open := filepath.Join(base, "open")
	for dir, mode := range map[string]os.FileMode{mine: 0o700, open: 0o777, filepath.Join(open, "sub"): 0o700, filepath.Join(mine, "real"): 0o700} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // not the umask's choice
			t.Fatal(err)
		}
	}
	planted := write(t, filepath.Join(open, "ca.pem"), "-----BEGIN CERTIFICATE-----\n", 0o600)
	if err := os.Symlink(filepath.Join(open, "sub"), filepath.Join(mine, "link")); err != nil {
		t.Fatal(err)
	}
	viaLink := filepath.Join(mine, "link") + "/../ca.pem"
	if got, err := os.ReadFile(viaLink); err != nil || string(got) != "-----BEGIN CERTIFICATE-----\n" {
		t.Fatalf("the kernel does not open %s through %s: %q, %v", planted, viaLink, got, err)
	}
	if data, err := ReadTrustFile(viaLink); err == nil {
		t.Fatalf("ReadTrustFile(%s) read %q from %s, a directory anyone can write", viaLink, data, open)
	} else if !strings.Contains(err.Error(), open) {
		t.Errorf("the refusal names %v, want the directory others can write, %s", err, open)
	}
	if err := CheckPath(viaLink); err == nil {
		t.Errorf("CheckPath(%s) passed", viaLink)
	}
	// A link whose target itself climbs out of a link: the same rule.
	if err := os.Symlink(filepath.Join(mine, "link")+"/../ca.pem", filepath.Join(mine, "indirect")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTrustFile(filepath.Join(mine, "indirect")); err == nil {
		t.Error("a link to link/../ca.pem was read")
	}

	mineCA := write(t, filepath.Join(mine, "ca.pem"), "-----BEGIN CERTIFICATE-----\n", 0o600)
	for _, p := range []string{filepath.Join(mine, "real") + "/../ca.pem", mine + "/./ca.pem", mine + "//ca.pem"} {
		if _, err := ReadTrustFile(p); err != nil {
			t.Errorf("ReadTrustFile(%s), which is %s: %v", p, mineCA, err)
		}
	}
}

// TestSpecialRootsAreWhereTheWalkLeads: /proc, /sys and /dev are refused
// where the walk arrives, not only where the path's text says so: a
// relative path that climbs into /proc, or a link of yours that points
// there, used to pass CheckTrustFile (an outside review, 2026-12-08).
func TestSpecialRootsAreWhereTheWalkLeads(t *testing.T) {
	base := t.TempDir()
	link := filepath.Join(base, "environ")
	if err := os.Symlink("/proc/self/environ", link); err != nil {
		t.Fatal(err)
	}
	if err := CheckTrustFile(link); err == nil || !strings.Contains(err.Error(), "under /proc") {
		t.Errorf("CheckTrustFile(a link to /proc/self/environ) = %v, want a refusal naming /proc", err)
	}
	t.Chdir(base)
	up := strings.Repeat("../", strings.Count(base, "/")+1) + "proc/self/environ"
	if err := CheckTrustFile(up); err == nil || !strings.Contains(err.Error(), "under /proc") {
		t.Errorf("CheckTrustFile(%s) = %v, want a refusal naming /proc", up, err)
	}
}

// TestNothingAfterAMissingNameClimbsOut: the walk stops at a missing name,
// so a ".." after it is refused: in a sticky directory anyone may create
// that name later and make it a link (an outside review, 2026-12-08).
func TestNothingAfterAMissingNameClimbsOut(t *testing.T) {
	sticky := filepath.Join(t.TempDir(), "sticky")
	if err := os.Mkdir(sticky, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := CheckPath(filepath.Join(sticky, "missing") + "/../../x"); err == nil {
		t.Error("a path climbing out of a missing name in a sticky directory passed")
	}
	if err := CheckPath(filepath.Join(sticky, "missing", "later")); err != nil {
		t.Errorf("a path of names yet to be made: %v", err)
	}
}

// TestReadPlainFileNeverStalls: a CI token or client secret file an exec
// stanza names is read on every call; a FIFO (no writer) or /dev/zero
// would stall or exhaust it (an outside review, 2026-12-08).
func TestReadPlainFileNeverStalls(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "secret.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadPlainFile(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO: %v, want a refusal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadPlainFile blocked on a FIFO with no writer")
	}
	if _, err := ReadPlainFile("/dev/zero"); err == nil {
		t.Error("/dev/zero was read")
	}
	secret := write(t, filepath.Join(dir, "secret"), "s3cret\n", 0o444)
	if got, err := ReadPlainFile(secret); err != nil || string(got) != "s3cret\n" {
		t.Errorf("a plain 0444 secret file: %q, %v", got, err)
	}
}
