package kubeconfig

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd/api"
)

func TestModifyFailsWhileLockIsHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	writeFile(t, path+".lock", "", 0o600) // another kubectl is writing
	before := stamp(t, path)

	start := time.Now()
	_, err := (&Store{ExplicitPath: path, LockTimeout: 200 * time.Millisecond}).Modify(addSecurekapi("x"), ModifyOptions{})
	if err == nil {
		t.Fatal("Modify succeeded while the file was locked")
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the 200ms timeout", waited)
	}
	for _, want := range []string{"kubeconfig " + path + " is locked", "another kubectl or securekapi may be writing it", "remove " + path + ".lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	assertUntouched(t, path, before)
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Error("Modify removed a lock it did not take")
	}
}

func TestModifyReleasesLocksItTook(t *testing.T) {
	dir := t.TempDir()
	files := layOut(t, dir, []string{fileA, fileB, fileC})
	writeFile(t, files[2]+".lock", "", 0o600) // held on the last file only
	s := envStore(files...)
	s.LockTimeout = 100 * time.Millisecond
	_, err := s.Modify(addSecurekapi("x"), ModifyOptions{})
	if err == nil {
		t.Fatal("Modify succeeded with one file locked")
	}
	for _, f := range files[:2] {
		if _, err := os.Stat(f + ".lock"); !os.IsNotExist(err) {
			t.Errorf("%s.lock left behind after a failed Modify", f)
		}
	}

	os.Remove(files[2] + ".lock")
	if _, err := envStore(files...).Modify(addSecurekapi("x"), ModifyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		assertNoStrays(t, filepath.Dir(f))
	}
}

// The wait uses the injected clock: a long timeout costs no real time.
func TestLockBacksOffOnInjectedClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path+".lock", "", 0o600)
	now := time.Now()
	var slept []time.Duration
	s := &Store{
		ExplicitPath: path, LockTimeout: 10 * time.Second,
		Now:   func() time.Time { return now },
		Sleep: func(d time.Duration) { slept = append(slept, d); now = now.Add(d) },
	}
	if _, err := s.Modify(addSecurekapi("x"), ModifyOptions{}); err == nil {
		t.Fatal("Modify succeeded while locked")
	}
	if slept[0] != firstLockWait || slept[len(slept)-1] != maxLockWait {
		t.Errorf("backoff %v: want it to start at %v and cap at %v", slept[:6], firstLockWait, maxLockWait)
	}
}

// Twenty processes each add a context at once: none may be lost.
func TestModifyConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	files := layOut(t, t.TempDir(), []string{"", sharedConfig})
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=add-context", fmt.Sprintf("HELPER_CONTEXT=ctx-%d", i),
				"KUBECONFIG="+strings.Join(files, string(filepath.ListSeparator)))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("child %d: %v: %s", i, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	assertAllContexts(t, files[1], 20)
	assertNoStrays(t, filepath.Dir(files[1]))
}

// The same within one process, for the race detector.
func TestModifyConcurrentGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, sharedConfig, 0o600)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			s := &Store{ExplicitPath: path, LockTimeout: time.Minute}
			_, err := s.Modify(func(cfg *api.Config) error {
				SetContext(cfg, fmt.Sprintf("ctx-%d", i), "shared", "shared", "")
				return nil
			}, ModifyOptions{})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	assertAllContexts(t, path, 20)
}

const sharedConfig = `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: https://shared}
users:
- name: shared
  user: {token: t}
`

func assertAllContexts(t *testing.T, path string, n int) {
	t.Helper()
	cfg := loadFile(t, path)
	for i := range n {
		if cfg.Contexts[fmt.Sprintf("ctx-%d", i)] == nil {
			t.Errorf("ctx-%d was lost; file has %v", i, keys(cfg.Contexts))
		}
	}
	if cfg.Clusters["shared"] == nil || cfg.AuthInfos["shared"] == nil {
		t.Error("the existing entries were lost")
	}
}

func TestLockErrorOnReadOnlyDirSaysWhatToDo(t *testing.T) {
	err := lockError("/etc/k3s.yaml", &os.PathError{Op: "open", Path: "/etc/k3s.yaml.lock", Err: os.ErrPermission})
	if !strings.Contains(err.Error(), "drop read-only files from KUBECONFIG or pass --kubeconfig") {
		t.Errorf("err = %v", err)
	}
}
