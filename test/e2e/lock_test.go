package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// TestKilledUseLocksNobodyOut: `use` is killed with -9 (and, every third
// round, interrupted or terminated) while it holds <kubeconfig>.lock, again
// and again. After each kill the next `use` runs at once, removes a stale
// lock if one was left (and says so), and then the real kubectl can write
// the kubeconfig too. A kubectl lock (empty) is still waited for and
// reported, never broken.
func TestKilledUseLocksNobodyOut(t *testing.T) {
	se := newSession(t, stack.Reader)
	ctx := context.Background()
	kubeconfig := filepath.Join(se.Dir, "kubeconfig")
	lock := kubeconfig + ".lock"
	if r := se.Kubectl(ctx, "config", "set-context", "other", "--cluster=e2e"); r.Err != nil {
		t.Fatalf("kubectl config set-context: %v\n%s", r.Err, r.Stderr)
	}

	const rounds = 50
	deadline := time.Now().Add(4 * time.Minute)
	var staleLeft, broken, kubectlRefused int
	for round := 0; round < rounds && time.Now().Before(deadline); round++ {
		sig := syscall.SIGKILL
		switch round % 6 {
		case 2:
			sig = syscall.SIGINT
		case 5:
			sig = syscall.SIGTERM
		}
		if killWhileLocked(t, se, lock, sig) && sig == syscall.SIGKILL {
			staleLeft++
		}
		_, lockErr := os.Stat(lock)
		if sig != syscall.SIGKILL && lockErr == nil {
			t.Fatalf("round %d: %v did not release %s", round, sig, lock)
		}

		// kubectl itself cannot recover a stale lock; note how often it
		// would have been stuck, then let securekapi recover it.
		if lockErr == nil {
			if r := se.Kubectl(ctx, "config", "use-context", "other"); r.Err == nil {
				t.Fatalf("round %d: kubectl wrote the kubeconfig despite %s", round, lock)
			}
			kubectlRefused++
		}
		start := time.Now()
		r := se.Securekapi(ctx, "use", "e2e")
		if r.Err != nil {
			t.Fatalf("round %d: use after %v: %v\n%s", round, sig, r.Err, r.Stderr)
		}
		if took := time.Since(start); took > 4*time.Second {
			t.Errorf("round %d: use took %s: it waited for a lock it should have broken", round, took)
		}
		said := strings.Contains(r.Stderr, "removed the stale lock "+lock)
		if said != (lockErr == nil) {
			t.Fatalf("round %d: stale lock before use: %v; use said it removed one: %v\n%s", round, lockErr == nil, said, r.Stderr)
		}
		if said {
			broken++
		}
		if r := se.Kubectl(ctx, "config", "use-context", "other"); r.Err != nil {
			t.Fatalf("round %d: kubectl config use-context after use: %v\n%s", round, r.Err, r.Stderr)
		}
		if r := se.Kubectl(ctx, "config", "current-context"); strings.TrimSpace(r.Stdout) != "other" {
			t.Fatalf("round %d: current context %q after kubectl use-context: %s", round, r.Stdout, r.Stderr)
		}
	}
	t.Logf("%d kills -9 left a stale lock; securekapi broke %d; kubectl alone would have been stuck %d times", staleLeft, broken, kubectlRefused)
	if staleLeft < 10 {
		t.Errorf("only %d kills left a stale lock: the test did not exercise the lock window", staleLeft)
	}

	// An empty lock is kubectl's: waited for, reported, left alone.
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := se.Securekapi(ctx, "use", "e2e")
	if r.Err == nil {
		t.Fatal("use broke an empty (kubectl) lock")
	}
	if took := time.Since(start); took < 4*time.Second {
		t.Errorf("use gave up on kubectl's lock after %s, before the 5s wait", took)
	}
	if !strings.Contains(r.Stderr, "is locked") || !strings.Contains(r.Stderr, "remove "+lock) {
		t.Errorf("use did not report the lock:\n%s", r.Stderr)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("use removed kubectl's lock: %v", err)
	}
}

// killWhileLocked starts `use e2e`, sends sig as soon as the lock file
// appears (or, if it never shows up in time, when the run ends), and
// reports whether the lock was still there once the process had died.
func killWhileLocked(t *testing.T, se *stack.Session, lock string, sig syscall.Signal) bool {
	t.Helper()
	cmd := exec.Command(se.Plugin, "use", "e2e")
	cmd.Env = se.Environ()
	cmd.Dir = se.Dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case <-exited:
			return false // finished before the lock was seen
		case <-timeout:
			cmd.Process.Kill()
			<-exited
			t.Fatal("use did not finish within 30s")
		default:
		}
		if _, err := os.Stat(lock); err == nil {
			break
		}
	}
	cmd.Process.Signal(sig)
	err := <-exited
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("wait for use: %v", err)
	}
	_, statErr := os.Stat(lock)
	return statErr == nil
}
