package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteReplacesKeepsModeAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := Write(path, []byte("one"), 0); err != nil {
		t.Fatal(err)
	}
	// Windows has no Unix modes.
	if got := mode(t, path); runtime.GOOS != "windows" && got != 0o600 {
		t.Errorf("new file mode = %o, want 0600 when defaultMode is 0", got)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "two" {
		t.Errorf("content = %q, want %q", got, "two")
	}
	if got := mode(t, path); runtime.GOOS != "windows" && got != 0o644 {
		t.Errorf("mode = %o, want the existing 0644 kept", got)
	}
	assertNoStrays(t, dir)
}

// TestWriteModeSetsTheModeExactly: a secret's file that someone made
// world-readable is private again after the next write, and a public file
// is readable by the program that reads it whatever the umask.
func TestWriteModeSetsTheModeExactly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("checks Unix modes, which Windows files do not have")
	}
	dir := t.TempDir()
	secret := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(secret, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(secret, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteMode(secret, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, secret); got != 0o600 {
		t.Errorf("secret mode = %o after WriteMode 0600, want 0600", got)
	}
	public := filepath.Join(dir, "ca.crt")
	if err := WriteMode(public, []byte("ca"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, public); got != 0o644 {
		t.Errorf("public mode = %o, want 0644", got)
	}
	assertNoStrays(t, dir)
}

func TestWriteFailedRenameLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "config")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "inside"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Write(target, []byte("new"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "write "+target) {
		t.Fatalf("err = %v, want a write error naming %s", err, target)
	}
	assertNoStrays(t, dir)
	if got := read(t, filepath.Join(target, "inside")); got != "keep" {
		t.Error("the directory in the way was changed")
	}
}

func TestWriteCreatesPrivateParent(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("checks Unix modes, which Windows files do not have")
	}
	path := filepath.Join(t.TempDir(), "a", "b", "config")
	if err := Write(path, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, filepath.Dir(path)); got != 0o700 {
		t.Errorf("parent mode = %o, want 0700", got)
	}
	if got := mode(t, path); got != 0o640 {
		t.Errorf("new file mode = %o, want the given default 0640", got)
	}
}

func TestWriteFollowsADanglingSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs symlinks, which Windows gives only to administrators and developer mode (wine fakes them)")
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "config")
	if err := os.Symlink("real/kubeconfig", link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if err := Write(link, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "real", "kubeconfig")); got != "x" {
		t.Errorf("link target = %q, want the write to land there", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced by a file: %v", err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func assertNoStrays(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("stray temp file left behind: %s", e.Name())
		}
	}
}
