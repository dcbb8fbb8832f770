package atomicfile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const holdHelperEnv = "SECUREKAPI_TEST_HOLD_FILE"

// TestHoldHelperProcess is not a test: TestWriteWhileAnotherProcessReads
// runs it in a child that opens the file, as kubectl reading a kubeconfig
// does, says "held", and closes it after the time in its second argument.
func TestHoldHelperProcess(t *testing.T) {
	path := os.Getenv(holdHelperEnv)
	if path == "" {
		t.Skip("helper for TestWriteWhileAnotherProcessReads")
	}
	hold, err := time.ParseDuration(os.Getenv(holdHelperEnv + "_FOR"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("held\n")
	time.Sleep(hold)
	f.Close()
}

// holdOpen starts a process that keeps path open for hold and returns once
// the file is open.
func holdOpen(t *testing.T, path string, hold time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), holdHelperEnv+"="+path, holdHelperEnv+"_FOR="+hold.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "held\n" {
		t.Fatalf("holder said %q, want held", line)
	}
	return cmd
}

// TestWriteWhileAnotherProcessReads: a write lands while another process
// has the file open for a moment. Windows refuses to rename over an open
// file; Write retries until the reader lets go.
func TestWriteWhileAnotherProcessReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := Write(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	holdOpen(t, path, 300*time.Millisecond)
	start := time.Now()
	if err := Write(path, []byte("new"), 0o600); err != nil {
		t.Fatalf("write while another process reads: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("write took %s, want it bounded", took)
	}
	if got := read(t, path); got != "new" {
		t.Errorf("content = %q, want new", got)
	}
	assertNoStrays(t, filepath.Dir(path))
}
