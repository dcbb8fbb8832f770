package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// runDoctor runs `doctor -o json` and returns its checks and whether it
// exited zero.
func runDoctor(t *testing.T, se *stack.Session) ([]doctorCheck, bool) {
	t.Helper()
	r := se.Securekapi(context.Background(), "doctor", "-o", "json")
	var checks []doctorCheck
	if err := json.Unmarshal([]byte(r.Stdout), &checks); err != nil {
		t.Fatalf("doctor -o json: %v\n%s%s", err, r.Stdout, r.Stderr)
	}
	return checks, r.Err == nil
}

// firstFailure is the check a user would read first.
func firstFailure(checks []doctorCheck) doctorCheck {
	for _, c := range checks {
		if c.Status == "fail" {
			return c
		}
	}
	return doctorCheck{}
}

// TestDoctor walks the whole path in a healthy and in broken states; each
// broken state must be blamed on the right step, with a fix.
func TestDoctor(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)

	t.Run("healthy", func(t *testing.T) {
		checks, passed := runDoctor(t, se)
		if !passed {
			t.Fatalf("doctor failed on a healthy setup: %+v", checks)
		}
		want := map[string]string{
			"kubeconfig entry": "ok", "DNS and TCP to the endpoint": "ok", "TLS chain and pins": "ok", "token binding": "ok",
			"OIDC discovery": "ok", "cached token": "ok", "API /version": "ok", "identity (SelfSubjectReview)": "ok",
		}
		for _, c := range checks {
			if w, ok := want[c.Name]; ok && c.Status != w {
				t.Errorf("%s: %s (%s), want %s", c.Name, c.Status, c.Detail, w)
			}
			if c.Name == "identity (SelfSubjectReview)" && !strings.Contains(c.Detail, stack.Reader.Email) {
				t.Errorf("identity check does not name the user: %s", c.Detail)
			}
		}
		// The table form is for people: one line per check.
		r := se.Securekapi(context.Background(), "doctor")
		if r.Err != nil || strings.Count(r.Stdout, "\n") < len(checks) || strings.Contains(r.Stdout, "\x1b[") {
			t.Errorf("doctor table (no terminal, so no colour): %v\n%s", r.Err, r.Stdout)
		}
	})

	broken := []struct {
		name      string
		breakIt   func(t *testing.T)
		failingAt string
	}{{
		name: "wrong pin",
		breakIt: func(t *testing.T) {
			path := filepath.Join(se.Dir, "kubeconfig")
			cfg, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			u := cfg.AuthInfos["securekapi-e2e"]
			orig := append([]string{}, u.Exec.Args...)
			for i, a := range u.Exec.Args {
				if strings.HasPrefix(a, "sha256:") {
					u.Exec.Args[i] = "sha256:" + strings.Repeat("0", 64)
				}
			}
			if err := clientcmd.WriteToFile(*cfg, path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				u.Exec.Args = orig
				if err := clientcmd.WriteToFile(*cfg, path); err != nil {
					t.Fatal(err)
				}
			})
		},
		failingAt: "TLS chain and pins",
	}, {
		name:      "Dex stopped",
		breakIt:   func(t *testing.T) { stopForTest(t, "dex") },
		failingAt: "OIDC discovery",
	}, {
		name:      "HAProxy stopped",
		breakIt:   func(t *testing.T) { stopForTest(t, "haproxy") },
		failingAt: "DNS and TCP to the endpoint",
	}}
	for _, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			b.breakIt(t)
			checks, passed := runDoctor(t, se)
			if passed {
				t.Fatalf("doctor passed with %s: %+v", b.name, checks)
			}
			f := firstFailure(checks)
			if f.Name != b.failingAt || f.Fix == "" {
				t.Fatalf("first failure = %+v, want %q with a fix", f, b.failingAt)
			}
		})
	}
}

// stopForTest stops a stack component and restarts it when the test ends.
func stopForTest(t *testing.T, component string) {
	t.Helper()
	if err := shared.StopComponent(component); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shared.RestartComponent(context.Background(), component); err != nil {
			t.Fatalf("restart %s: %v", component, err)
		}
	})
}
