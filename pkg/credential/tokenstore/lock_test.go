package tokenstore

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockKeySecondWaiterWaitsForFirst(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockKey(context.Background(), dir, testKey, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var released atomic.Bool
	got := make(chan error, 1)
	go func() {
		unlock2, err := LockKey(context.Background(), dir, testKey, 10*time.Second)
		if err == nil {
			if !released.Load() {
				t.Error("second holder got the lock while the first held it")
			}
			unlock2()
		}
		got <- err
	}()
	time.Sleep(150 * time.Millisecond)
	released.Store(true)
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestLockKeyTimesOutWhileHeld(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockKey(context.Background(), dir, testKey, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = LockKey(context.Background(), dir, testKey, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "another securekapi") || !strings.Contains(err.Error(), "retry") {
		t.Fatalf("LockKey = %v, want a timeout naming the other process", err)
	}
	// Other keys are not blocked.
	unlockOther, err := LockKey(context.Background(), dir, Key{Issuer: "https://other"}, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()
}

func TestLockKeyHonoursCancel(t *testing.T) {
	dir := t.TempDir()
	unlock, _ := LockKey(context.Background(), dir, testKey, time.Second)
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LockKey(ctx, dir, testKey, time.Second); err == nil {
		t.Fatal("want an error from a cancelled context")
	}
}

const lockHelperEnv = "SECUREKAPI_TEST_LOCK_HELPER_DIR"

// TestLockHelperProcess is not a test: TestLockKeyAcrossProcesses runs it in
// a child process to hold the lock until its stdin closes.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper for TestLockKeyAcrossProcesses")
	}
	unlock, err := LockKey(context.Background(), dir, testKey, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // EOF when the parent closes stdin
	unlock()
}

func TestLockKeyAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child did not take the lock: %q, %v", line, err)
	}
	if _, err := LockKey(context.Background(), dir, testKey, 200*time.Millisecond); err == nil {
		t.Fatal("took the lock while another process held it")
	}
	_ = stdin.Close()
	unlock, err := LockKey(context.Background(), dir, testKey, 10*time.Second)
	if err != nil {
		t.Fatalf("lock not released when the other process let go: %v", err)
	}
	unlock()
}
