package atomicfile

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpdateSerializesWriters: concurrent read-increment-write updates all
// land, which they would not without the lock.
func TestUpdateSerializesWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "counter")
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			errs <- Update(path, 0o600, func(old []byte) ([]byte, error) {
				n, _ := strconv.Atoi(string(old))
				time.Sleep(time.Millisecond) // widen the window a lost update needs
				return []byte(strconv.Itoa(n + 1)), nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != strconv.Itoa(writers) {
		t.Errorf("counter = %q after %d updates: an update was lost", got, writers)
	}
	// Windows has no Unix modes.
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestUpdateSeesMissingEmptyAndFailed: a missing file is nil, an empty one
// is empty but not nil, and a failing change writes nothing.
func TestUpdateSeesMissingEmptyAndFailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	var seen []byte
	record := func(old []byte) ([]byte, error) { seen = old; return []byte{}, nil }
	if err := Update(path, 0o600, record); err != nil || seen != nil {
		t.Fatalf("missing file: old = %#v, %v; want nil", seen, err)
	}
	if err := Update(path, 0o600, record); err != nil || seen == nil || len(seen) != 0 {
		t.Fatalf("empty file: old = %#v, %v; want empty, not nil", seen, err)
	}
	if err := os.WriteFile(path, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := Update(path, 0o600, func([]byte) ([]byte, error) { return []byte("lost"), refused }); !errors.Is(err, refused) {
		t.Fatalf("Update = %v, want the change's error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "kept" {
		t.Errorf("a failed change wrote %q", got)
	}
}

const updateHelperEnv = "SECUREKAPI_TEST_UPDATE_HELPER_FILE"

// TestUpdateHelperProcess is not a test: the tests below run it in a child
// process that starts an Update, says so, and stops inside the change until
// it is killed.
func TestUpdateHelperProcess(t *testing.T) {
	path := os.Getenv(updateHelperEnv)
	if path == "" {
		t.Skip("helper for TestAKilledWriterLocksNobodyOut")
	}
	_ = Update(path, 0o600, func([]byte) ([]byte, error) {
		os.Stdout.WriteString("changing\n")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // killed here, lock held
		return []byte("the killed writer's"), nil
	})
}

// TestAKilledWriterLocksNobodyOut: while another process is inside an
// Update, a second one waits and says why; once that process is killed
// (SIGKILL: no chance to clean up), the kernel has released the lock and the
// next Update goes through at once, over the untouched file.
func TestAKilledWriterLocksNobodyOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "approvals.json")
	if err := os.WriteFile(path, []byte("before"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUpdateHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), updateHelperEnv+"="+path)
	cmd.Stderr = os.Stderr
	_, _ = cmd.StdinPipe() // kept open: the child waits on it until killed
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "changing\n" {
		t.Fatalf("the child did not start its update: %q, %v", line, err)
	}

	add := func(old []byte) ([]byte, error) { return append(old, " after"...), nil }
	err := update(path, 0o600, 200*time.Millisecond, add)
	if err == nil || !strings.Contains(err.Error(), "another securekapi is updating "+path+"; let it finish") {
		t.Fatalf("Update while another process holds the lock = %v, want a wait that says why", err)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	start := time.Now()
	if err := update(path, 0o600, 5*time.Second, add); err != nil {
		t.Fatalf("Update after the holder was killed: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Update after the kill took %s: the dead writer's lock was waited for", took)
	}
	if got, _ := os.ReadFile(path); string(got) != "before after" {
		t.Errorf("file = %q, want the killed writer's change absent and the new one in", got)
	}
}
