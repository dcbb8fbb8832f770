package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// The exec stanza runs kubectl-securekapi, the small program, which answers
// a cached token itself and hands every other call to the full CLI,
// securekapi, next to it. These tests hold both halves to that: the small
// program alone serves real kubectl (every client version installed, both
// ExecCredential API versions), and what it hands over says exactly what
// the full CLI says.

// aloneSession is se with the small program copied into a directory of its
// own and nothing else on PATH that is securekapi: no full CLI to hand to.
func aloneSession(t *testing.T, se *stack.Session) *stack.Session {
	t.Helper()
	dir := t.TempDir()
	small := filepath.Join(dir, "kubectl-securekapi")
	data, err := os.ReadFile(se.Plugin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(small, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := exec.LookPath("securekapi"); err == nil {
		t.Fatalf("a securekapi is on the test's own PATH (%s); the test needs a PATH without it", p)
	}
	alone := *se
	alone.Plugin = small
	return &alone
}

func execInfoFor(version, server string, caPEM []byte) string {
	return fmt.Sprintf(`{"apiVersion":%q,"kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":%q,"tls-server-name":%q,"certificate-authority-data":%q}}}`,
		version, server, stack.EndpointServerName, base64.StdEncoding.EncodeToString(caPEM))
}

// TestSmallProgramServesKubectlAlone: with a cached token, every real
// kubectl client installed (1.27 to 1.33, and the tools' 1.37) gets its token from the small
// program, with no full CLI anywhere, in both ExecCredential versions; so
// the small program's own wire structs are what kubectl reads. Without a
// usable token it says the full CLI is missing, where it looked and how to
// install it, and writes nothing to stdout.
func TestSmallProgramServesKubectlAlone(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	alone := aloneSession(t, se)
	ctx := context.Background()

	sdk := filepath.Dir(resolvedKubectl(t))
	clients, _ := filepath.Glob(filepath.Join(sdk, "kubectl.1.*"))
	if len(clients) < 7 {
		t.Fatalf("want kubectl.1.27 to kubectl.1.33 in %s, found %q", sdk, clients)
	}
	clients = append(clients, shared.ToolsKubectl()) // 1.37, the stack's own version
	// kubectl 1.27's `auth whoami` speaks only the beta API; this raw POST
	// asks every client version the same question.
	review := filepath.Join(t.TempDir(), "review.json")
	if err := os.WriteFile(review, []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		if r := alone.Kubectl(ctx, "config", "set-credentials", "securekapi-e2e", "--exec-api-version="+version); r.Err != nil {
			t.Fatalf("set the exec apiVersion: %v\n%s", r.Err, r.Stderr)
		}
		for _, client := range clients {
			r := alone.Run(ctx, client, "create", "--raw", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "-f", review)
			if r.Err != nil || !strings.Contains(r.Stdout, stack.Reader.Email) {
				t.Errorf("%s with exec %s and only the small program: %v, user %q\n%s", filepath.Base(client), version, r.Err, r.Stdout, r.Stderr)
			}
		}
	}

	// No usable token: a margin longer than the token's life makes it
	// "about to expire", so a refresh is needed, which is the full CLI's.
	args := append(execArgs(t, se), "--expiry-margin", "1000h")
	noFull := *alone
	noFull.Env = append(append([]string{}, alone.Env...), "KUBERNETES_EXEC_INFO="+execInfoFor("client.authentication.k8s.io/v1", shared.EndpointURL, shared.EnterpriseCA.CertPEM))
	for name, argv := range map[string][]string{"refresh needed": args} {
		r := noFull.Securekapi(ctx, argv...)
		if r.Err == nil || r.Stdout != "" {
			t.Fatalf("%s without the full CLI: err %v, stdout %q", name, r.Err, r.Stdout)
		}
		for _, want := range []string{"the full securekapi CLI (securekapi) is missing", filepath.Join(filepath.Dir(alone.Plugin), "securekapi"), "kubectl krew", "go install"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s without the full CLI: stderr lacks %q:\n%s", name, want, r.Stderr)
			}
		}
	}
	// From an exec stanza another subcommand is not handed over at all:
	// it is refused, by the small program alone (execplugin.CheckExecOnly).
	if r := noFull.Securekapi(ctx, "version"); r.Err == nil || r.Stdout != "" ||
		!strings.Contains(r.Stderr, `refusing "version" from a kubeconfig exec stanza`) || strings.Contains(r.Stderr, "is missing") {
		t.Errorf("version under KUBERNETES_EXEC_INFO without the full CLI: err %v, stdout %q\n%s", r.Err, r.Stdout, r.Stderr)
	}
}

func resolvedKubectl(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	if p, err = filepath.EvalSymlinks(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHandOverSaysWhatTheFullCLISays: every call the small program cannot
// answer from the cache goes to the full CLI unchanged, so exit code,
// stdout and stderr are the full CLI's own: a binding refusal, a login that
// is needed but impossible, bad input, a corrupt entry.
func TestHandOverSaysWhatTheFullCLISays(t *testing.T) {
	ctx := context.Background()
	full := filepath.Join(filepath.Dir(os.Getenv("SECUREKAPI_BIN")), "securekapi")
	loggedIn := newSession(t, stack.Reader)
	browserLogin(t, loggedIn)
	fresh := newSession(t, stack.Reader)
	good := execInfoFor("client.authentication.k8s.io/v1", shared.EndpointURL, shared.EnterpriseCA.CertPEM)
	cases := map[string]struct {
		se          *stack.Session
		info, want  string
		extraArgs   []string
		wantSuccess bool
	}{
		"binding: another server":   {se: loggedIn, info: execInfoFor("client.authentication.k8s.io/v1", shared.APIServerURL, shared.EnterpriseCA.CertPEM), want: "refusing to release a token"},
		"binding: another CA":       {se: loggedIn, info: execInfoFor("client.authentication.k8s.io/v1", shared.EndpointURL, shared.ClusterCAPEM), want: "refusing to release a token"},
		"no login, not interactive": {se: fresh, info: good, want: "kubectl securekapi login e2e"},
		"exec info not JSON":        {se: loggedIn, info: "{oops", want: "not valid JSON"},
		"bad flag":                  {se: loggedIn, info: good, extraArgs: []string{"--grant", "password"}, want: "--grant"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := *tc.se
			s.Env = append(append([]string{}, tc.se.Env...), "KUBERNETES_EXEC_INFO="+tc.info)
			args := append(execArgs(t, tc.se), tc.extraArgs...)
			small := s.Securekapi(ctx, args...)
			fullR := s.Run(ctx, full, args...)
			if small.Err == nil || !strings.Contains(small.Stderr, tc.want) {
				t.Fatalf("small program: err %v, stderr lacks %q:\n%s", small.Err, tc.want, small.Stderr)
			}
			if small.Stdout != "" {
				t.Fatalf("small program wrote to stdout: %q", small.Stdout)
			}
			if small.Stderr != fullR.Stderr || small.Stdout != fullR.Stdout || exitCode(small.Err) != exitCode(fullR.Err) {
				t.Errorf("the hand-over differs from the full CLI:\nsmall (exit %d): %q\nfull  (exit %d): %q", exitCode(small.Err), small.Stderr, exitCode(fullR.Err), fullR.Stderr)
			}
		})
	}
}
