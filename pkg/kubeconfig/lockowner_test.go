//go:build unix

package kubeconfig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd/api"
)

// startLockHolder starts a child that takes path's lock and holds it.
func startLockHolder(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=hold-lock", "KUBECONFIG="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("lock holder: %q, %v; stderr: %s", line, err, stderr.String())
	}
	return cmd
}

func TestLockFileNamesItsOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	var content []byte
	_, err := (&Store{ExplicitPath: path}).Modify(func(*api.Config) error {
		var err error
		content, err = os.ReadFile(path + ".lock")
		return err
	}, ModifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owner, ok := parseLockOwner(content)
	if !ok || owner.pid != os.Getpid() {
		t.Fatalf("lock content %q does not name this process (pid %d)", content, os.Getpid())
	}
	if runtime.GOOS == "linux" && (owner.start == "" || owner.pidns == "") {
		t.Errorf("lock content %q lacks the start time or pid namespace", content)
	}
}

// A securekapi killed with -9 while holding the lock: the next one removes
// the lock, says so, and writes.
func TestBreaksLockOfKilledSecurekapi(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	holder := startLockHolder(t, path)
	holder.Process.Kill()
	holder.Wait()
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("kill -9 left no lock to test with: %v", err)
	}
	var stderr bytes.Buffer
	start := time.Now()
	s := &Store{ExplicitPath: path, LockTimeout: 5 * time.Second, ErrOut: &stderr}
	if _, err := s.Modify(addSecurekapi("x"), ModifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: the stale lock should be broken at once, not waited for", took)
	}
	want := fmt.Sprintf("removed the stale lock %s.lock: securekapi process %d", path, holder.Process.Pid)
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q does not contain %q", stderr.String(), want)
	}
	if loadFile(t, path).Contexts["x"] == nil {
		t.Error("the write did not happen")
	}
	assertNoStrays(t, filepath.Dir(path))
}

func TestWaitsForLockOfLiveSecurekapi(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	holder := startLockHolder(t, path)
	before := stamp(t, path)
	_, err := (&Store{ExplicitPath: path, LockTimeout: 300 * time.Millisecond}).Modify(addSecurekapi("x"), ModifyOptions{})
	if err == nil {
		t.Fatal("Modify broke the lock of a running securekapi")
	}
	want := fmt.Sprintf("held by securekapi process %d", holder.Process.Pid)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	assertUntouched(t, path, before)
}

func TestSignalReleasesLock(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			writeFile(t, path, fileA, 0o600)
			before := stamp(t, path)
			holder := startLockHolder(t, path)
			holder.Process.Signal(sig)
			err := holder.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != sig {
				t.Errorf("holder ended with %v, want death by %v", err, sig)
			}
			if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("lock still there after %v: %v", sig, err)
			}
			assertUntouched(t, path, before)
			assertNoStrays(t, filepath.Dir(path))
		})
	}
}

// deadOwner is the owner line a securekapi that has exited would leave.
func deadOwner(t *testing.T) lockOwner {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	o := currentOwner()
	o.pid = cmd.Process.Pid
	return o
}

func TestProvablyDead(t *testing.T) {
	self := currentOwner()
	dead := deadOwner(t)
	otherHost := dead
	otherHost.host += "-other"
	otherNS := dead
	otherNS.pidns = "pid:[1]"
	for _, c := range []struct {
		name  string
		owner lockOwner
		want  bool
	}{
		{"exited", dead, true},
		{"this process", self, false},
		{"another host", otherHost, false},
		{"another pid namespace", otherNS, false},
	} {
		if got := c.owner.provablyDead(self); got != c.want {
			t.Errorf("%s: provablyDead = %v, want %v", c.name, got, c.want)
		}
	}
	if runtime.GOOS == "linux" {
		reused := self
		reused.pid = os.Getppid() // alive, but not the process that took the lock
		reused.start = "1"
		if !reused.provablyDead(self) {
			t.Error("a live pid with another start time (a reused pid) was not judged dead")
		}
	}
	for _, content := range []string{"", "securekapi-lock v1 host=h pid=12", "securekapi-lock v1 host=h\n", "other pid=12\n"} {
		if _, ok := parseLockOwner([]byte(content)); ok {
			t.Errorf("parseLockOwner(%q) attributed a lock it should not", content)
		}
	}
}

// Twenty processes find the same stale lock at once: exactly one breaks it,
// and every write lands.
func TestOneOfManyBreaksStaleLock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	files := layOut(t, t.TempDir(), []string{sharedConfig})
	writeFile(t, files[0]+".lock", deadOwner(t).String(), 0o600)
	var wg sync.WaitGroup
	outs := make([]string, 20)
	for i := range outs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=add-context", fmt.Sprintf("HELPER_CONTEXT=ctx-%d", i), "KUBECONFIG="+files[0])
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("child %d: %v: %s", i, err, out)
			}
			outs[i] = string(out)
		})
	}
	wg.Wait()
	if n := strings.Count(strings.Join(outs, ""), "removed the stale lock"); n != 1 {
		t.Errorf("%d processes said they broke the stale lock, want 1:\n%s", n, strings.Join(outs, ""))
	}
	assertAllContexts(t, files[0], 20)
	assertNoStrays(t, filepath.Dir(files[0]))
}

// The same race in one process, under the race detector, checking mutual
// exclusion directly: no two mutations ever overlap.
func TestBreakingStaleLockKeepsMutualExclusion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, sharedConfig, 0o600)
	for round := range 5 {
		writeFile(t, path+".lock", deadOwner(t).String(), 0o600)
		var inside, overlaps, broke atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				var stderr syncWriter
				s := &Store{ExplicitPath: path, LockTimeout: time.Minute, ErrOut: &stderr}
				_, err := s.Modify(func(cfg *api.Config) error {
					if inside.Add(1) > 1 {
						overlaps.Add(1)
					}
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					SetContext(cfg, fmt.Sprintf("ctx-%d", i), "shared", "shared", "")
					return nil
				}, ModifyOptions{})
				if err != nil {
					t.Error(err)
				}
				if strings.Contains(stderr.String(), "removed the stale lock") {
					broke.Add(1)
				}
			})
		}
		wg.Wait()
		if overlaps.Load() > 0 || broke.Load() != 1 {
			t.Fatalf("round %d: %d overlapping mutations, %d breakers (want 0 and 1)", round, overlaps.Load(), broke.Load())
		}
	}
	assertAllContexts(t, path, 8)
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// kill -9 the moment the lock file appears, which is where a create-then-
// write lock is still empty: the lock left behind must still name its
// owner, so the next securekapi can break it.
func TestKillAtLockCreationLeavesAttributableLock(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux creates the lock with its content in one step")
	}
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	for round := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=hold-lock", "KUBECONFIG="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Lstat(path + ".lock"); err == nil {
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		content, err := os.ReadFile(path + ".lock")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, ok := parseLockOwner(content); !ok {
			t.Fatalf("round %d: kill -9 left a lock that names no owner: %q", round, content)
		}
		var stderr bytes.Buffer
		if _, err := (&Store{ExplicitPath: path, LockTimeout: time.Second, ErrOut: &stderr}).Modify(addSecurekapi("x"), ModifyOptions{}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	assertNoStrays(t, filepath.Dir(path))
}
