package kubeconfig

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteFileAtomicReplacesAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := WriteFileAtomic(path, []byte("one"), 0); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("new file mode = %o, want 0600 when defaultMode is 0", got)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := string(readBytes(t, path)); got != "two" {
		t.Errorf("content = %q, want %q", got, "two")
	}
	if got := mode(t, path); got != 0o644 {
		t.Errorf("mode = %o, want the existing 0644 kept", got)
	}
	assertNoStrays(t, dir)
}

func TestWriteFileAtomicFailedRenameLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "config")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(target, "inside"), "keep", 0o600)
	err := WriteFileAtomic(target, []byte("new"), 0o600)
	if err == nil || !strings.Contains(err.Error(), "write "+target) {
		t.Fatalf("err = %v, want a write error naming %s", err, target)
	}
	assertNoStrays(t, dir)
	if got := string(readBytes(t, filepath.Join(target, "inside"))); got != "keep" {
		t.Error("the directory in the way was changed")
	}
}

func TestWriteFileAtomicCreatesPrivateParent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "config")
	if err := WriteFileAtomic(path, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, filepath.Dir(path)); got != 0o700 {
		t.Errorf("parent mode = %o, want 0700", got)
	}
	if got := mode(t, path); got != 0o640 {
		t.Errorf("new file mode = %o, want the given default 0640", got)
	}
}

func TestWriteFileAtomicDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "config")
	if err := os.Symlink("real/kubeconfig", link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if err := WriteFileAtomic(link, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := string(readBytes(t, filepath.Join(dir, "real", "kubeconfig"))); got != "x" {
		t.Errorf("link target = %q, want the write to land there", got)
	}
}

// A writer killed at a random point leaves the target whole: one version or
// the other, never a mix.
func TestWriteFileAtomicSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	target := filepath.Join(t.TempDir(), "config")
	versions := [][]byte{bigConfig("a"), bigConfig("b")}
	midWrite := 0
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=write-loop", "HELPER_TARGET="+target)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
			cmd.Process.Kill()
			t.Fatalf("child did not start writing: %q", line)
		}
		time.Sleep(time.Duration(20+round*37) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		got := readBytes(t, target)
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Fatalf("round %d: target is neither version (%d bytes)", round, len(got))
		}
		loadFile(t, target)
		// A temp file left behind means the kill landed mid-write.
		temps, _ := filepath.Glob(filepath.Join(filepath.Dir(target), ".config.tmp-*"))
		midWrite += len(temps)
		for _, tmp := range temps {
			os.Remove(tmp)
		}
	}
	t.Logf("%d of 5 kills landed mid-write", midWrite)
}
