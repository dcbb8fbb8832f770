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
// exited zero. The streaming probe holds its watch for 2s unless extra
// says otherwise (a later --watch-time wins), so the suite stays fast.
func runDoctor(t *testing.T, se *stack.Session, extra ...string) ([]doctorCheck, bool) {
	t.Helper()
	r := se.Securekapi(context.Background(), append([]string{"doctor", "-o", "json", "--watch-time", "2s"}, extra...)...)
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
			"watch held open": "ok", "upgrade (exec) through the hop": "ok",
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
		r := se.Securekapi(context.Background(), "doctor", "--quick")
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

// newSessionVia is a user machine with cluster "e2e" registered at server
// (an endpoint presenting the stack's endpoint certificate) requesting
// exactly the given extra scopes, and kubeconfig switched to it.
func newSessionVia(t *testing.T, user stack.User, server string, scopes ...string) *stack.Session {
	t.Helper()
	return newSessionWith(t, user, server, shared.IssuerURL, scopes...)
}

// newSessionWith is newSessionVia logging in at issuer, a Dex of the
// stack's (same client and CA).
func newSessionWith(t *testing.T, user stack.User, server, issuer string, scopes ...string) *stack.Session {
	t.Helper()
	ctx := context.Background()
	se, err := shared.NewSession(t.TempDir(), "", user)
	if err != nil {
		t.Fatal(err)
	}
	pin := se.Securekapi(ctx, "pin", server, "--tls-server-name", stack.EndpointServerName)
	if pin.Err != nil {
		t.Fatalf("pin: %v: %s", pin.Err, pin.Stderr)
	}
	args := []string{"add", "e2e", "--server", server, "--tls-server-name", stack.EndpointServerName,
		"--pin", strings.TrimSpace(pin.Stdout), "--oidc-issuer-url", issuer,
		"--oidc-client-id", shared.ClientID, "--oidc-ca-file", shared.DexCAFile}
	for _, s := range scopes {
		args = append(args, "--oidc-extra-scope", s)
	}
	if r := se.Securekapi(ctx, args...); r.Err != nil {
		t.Fatalf("add: %v\n%s", r.Err, r.Stderr)
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	return se
}

func checkNamed(checks []doctorCheck, name string) doctorCheck {
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	return doctorCheck{}
}

// TestDoctorRejectedToken: logged in without the email scope, the token
// has no email claim, and the API server (--oidc-username-claim=email)
// answers 401. Doctor must blame the token, name the missing claim and
// the scope that brings it, and name the token by its subject.
func TestDoctorRejectedToken(t *testing.T) {
	se := newSessionVia(t, stack.Reader, shared.EndpointURL, "groups")
	browserLogin(t, se)
	if r := se.Kubectl(context.Background(), "get", "pods"); r.Err == nil || !strings.Contains(r.Stderr, "You must be logged in") {
		t.Fatalf("kubectl with a token without email: %v\n%s%s (the premise: the API server answers 401)", r.Err, r.Stdout, r.Stderr)
	}

	checks, passed := runDoctor(t, se, "--quick")
	if passed {
		t.Fatalf("doctor passed with a rejected token: %+v", checks)
	}
	tok := checkNamed(checks, "cached token")
	if tok.Status != "ok" || strings.HasPrefix(tok.Detail, ",") || !strings.Contains(tok.Detail, "subject ") {
		t.Errorf("cached token = %+v, want ok naming the subject", tok)
	}
	f := firstFailure(checks)
	if f.Name != "identity (SelfSubjectReview)" {
		t.Fatalf("first failure = %+v, want the identity check", f)
	}
	for _, want := range []string{"API server rejected the token", "no `email` claim"} {
		if !strings.Contains(f.Detail, want) {
			t.Errorf("detail %q does not say %q", f.Detail, want)
		}
	}
	if strings.Contains(f.Detail, "not an API server") || strings.Contains(f.Detail, "is not the --oidc-issuer-url") || strings.Contains(f.Detail, "audience") {
		t.Errorf("detail blames the wrong thing: %s", f.Detail)
	}
	if !strings.Contains(f.Fix, "--oidc-extra-scope email") {
		t.Errorf("fix %q does not name --oidc-extra-scope email", f.Fix)
	}
	t.Logf("doctor says: %s\n  fix: %s", f.Detail, f.Fix)
}

// TestDoctorStreamingProbe: through the stack's HAProxy a silent watch
// stays open and an exec upgrade reaches the API server; through a hop
// that cuts idle connections after 10s, the probe flags the timeout.
func TestDoctorStreamingProbe(t *testing.T) {
	const hold = "15s"
	t.Run("healthy hop", func(t *testing.T) {
		se := newSession(t, stack.Reader)
		browserLogin(t, se)
		checks, passed := runDoctor(t, se, "--watch-time", hold)
		if !passed {
			t.Fatalf("doctor failed through a healthy hop: %+v", checks)
		}
		if w := checkNamed(checks, "watch held open"); w.Status != "ok" || !strings.Contains(w.Detail, hold) {
			t.Errorf("watch = %+v, want held for %s", w, hold)
		}
		u := checkNamed(checks, "upgrade (exec) through the hop")
		if u.Status != "ok" || !(strings.Contains(u.Detail, "404") || strings.Contains(u.Detail, "403")) {
			t.Errorf("upgrade = %+v, want the API server's 404 or 403", u)
		}
	})

	t.Run("hop cutting idle connections", func(t *testing.T) {
		url, stop, err := shared.StartHAProxyHop(context.Background(), "haproxy-idle10s", func(cfg string) string {
			for _, k := range []string{"timeout server", "timeout tunnel"} {
				if !strings.Contains(cfg, k+" 1h") {
					t.Fatalf("expose's haproxy.cfg has no %q 1h to shorten:\n%s", k, cfg)
				}
				cfg = strings.Replace(cfg, k+" 1h", k+" 10s", 1)
			}
			return cfg
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		se := newSessionVia(t, stack.Reader, url, "email", "groups")
		browserLogin(t, se)
		checks, passed := runDoctor(t, se, "--watch-time", hold)
		if passed {
			t.Fatalf("doctor passed through a hop that cuts idle connections: %+v", checks)
		}
		f := firstFailure(checks)
		if f.Name != "watch held open" || !strings.Contains(f.Detail, "cuts idle connections") || !strings.Contains(f.Fix, "timeout server") {
			t.Fatalf("first failure = %+v, want the watch, naming HAProxy's timeout server", f)
		}
		t.Logf("doctor says: %s\n  fix: %s", f.Detail, f.Fix)
		if u := checkNamed(checks, "upgrade (exec) through the hop"); u.Status != "ok" {
			t.Errorf("upgrade through the short-timeout hop = %+v, want ok (only idling is cut)", u)
		}
	})
}
