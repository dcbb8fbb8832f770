package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// bearerKubectl runs the real kubectl through the trusted endpoint with a
// bare bearer token (as a CI job that already holds one would), from a
// kubeconfig that trusts the enterprise CA.
func bearerKubectl(t *testing.T, s *stack.Stack, token string, args ...string) (string, string, error) {
	t.Helper()
	kubeconfig := filepath.Join(t.TempDir(), "ci.kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %q, certificate-authority: %q, tls-server-name: %q}
users:
- name: ci
  user: {token: %q}
contexts:
- name: ci
  context: {cluster: e2e, user: ci}
current-context: ci
`, s.EndpointURL, s.EnterpriseCAFile, stack.EndpointServerName, token)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// ciWhoami asks the API server who a CI token is; ok is false when it
// answers 401.
func ciWhoami(t *testing.T, s *stack.Stack, token string) (w whoami, ok bool) {
	t.Helper()
	out, errOut, err := bearerKubectl(t, s, token, "auth", "whoami", "-o", "json")
	if err != nil {
		if !strings.Contains(errOut, "Unauthorized") && !strings.Contains(errOut, "You must be logged in") {
			t.Fatalf("kubectl auth whoami failed other than with 401: %v\n%s", err, errOut)
		}
		return w, false
	}
	if err := json.Unmarshal([]byte(out), &w); err != nil {
		t.Fatalf("whoami output: %v\n%s", err, out)
	}
	return w, true
}

// checkToken runs `expose authn-config --from-file ... --check-token` on
// the file kube-apiserver runs with, and reports whether it says accepted.
func checkToken(t *testing.T, s *stack.Stack, token string) (accepted bool, verdict string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token.jwt")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Getenv("SECUREKAPI_BIN"), "expose", "authn-config", "--kubeconfig", s.AdminKubeconfig(),
		"--from-file", s.AuthnConfigFile, "--check-token", file)
	out, err := cmd.Output()
	if err != nil {
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
			t.Fatalf("check-token: %v\n%s", err, out)
		}
	}
	return err == nil && strings.Contains(string(out), "result:   accepted"), string(out)
}

// The stack's kube-apiserver runs from the file `expose authn-config`
// wrote (no --oidc-* flags). Through the trusted endpoint with kubectl:
// a person's Dex token maps to the email and the oidc:-prefixed groups; a
// GitHub-shaped CI token is accepted only for the repository and ref the
// rule names, with the audience of this endpoint and the issuer's own key,
// and maps to ci:github:org/app:refs/heads/main. --check-token agrees with
// the real API server on every token.
func TestAuthnConfigFileDrivesTheAPIServer(t *testing.T) {
	s := shared
	data, err := os.ReadFile(s.AuthnConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "apiVersion: apiserver.config.k8s.io/v1\n") {
		t.Fatalf("the shared stack should run a v1 file:\n%s", data)
	}

	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email || !contains(w.Status.UserInfo.Groups, stack.ReaderGroup) {
		t.Fatalf("a person's token: API server saw %+v, want %s in %s", w.Status.UserInfo, stack.Reader.Email, stack.ReaderGroup)
	}

	good := stack.CIJob{Repository: stack.CIRepository, Ref: stack.CIRef, Audience: s.EndpointURL}
	cases := []struct {
		name   string
		job    stack.CIJob
		accept bool
	}{
		{"the repository and ref the rule names", good, true},
		{"another repository", stack.CIJob{Repository: "evil/app", Ref: stack.CIRef, Audience: s.EndpointURL}, false},
		{"another ref", stack.CIJob{Repository: stack.CIRepository, Ref: "refs/heads/feature", Audience: s.EndpointURL}, false},
		{"GitHub's default audience", stack.CIJob{Repository: stack.CIRepository, Ref: stack.CIRef}, false},
		{"a forgery with every claim right", stack.CIJob{Repository: stack.CIRepository, Ref: stack.CIRef, Audience: s.EndpointURL, UntrustedKey: true}, false},
		{"expired", stack.CIJob{Repository: stack.CIRepository, Ref: stack.CIRef, Audience: s.EndpointURL, IssuedAt: time.Now().Add(-10 * time.Minute)}, false},
	}
	for _, tc := range cases {
		token, err := s.CI.Mint(tc.job)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := ciWhoami(t, s, token)
		if ok != tc.accept {
			t.Errorf("%s: API server accepted=%v, want %v (%+v)", tc.name, ok, tc.accept, w.Status.UserInfo)
			continue
		}
		if ok && (w.Status.UserInfo.Username != stack.CIUsername || !contains(w.Status.UserInfo.Groups, stack.CIGroup)) {
			t.Errorf("%s: API server saw %+v, want %s in %s", tc.name, w.Status.UserInfo, stack.CIUsername, stack.CIGroup)
		}
		// The owner's check agrees, except where only a signature or
		// the clock tells (it checks neither by design).
		if tc.job.UntrustedKey || !tc.job.IssuedAt.IsZero() {
			continue
		}
		if accepted, verdict := checkToken(t, s, token); accepted != tc.accept {
			t.Errorf("%s: --check-token accepted=%v, the API server %v:\n%s", tc.name, accepted, tc.accept, verdict)
		} else if !accepted && tc.job.Repository == "evil/app" && !strings.Contains(verdict, stack.CIRule) {
			t.Errorf("%s: --check-token should name the rule:\n%s", tc.name, verdict)
		}
	}

	// RBAC targets the mapped name: the CI user reads namespaces.
	token, _ := s.CI.Mint(good)
	if out, errOut, err := bearerKubectl(t, s, token, "get", "ns", "-o", "name"); err != nil || !strings.Contains(out, "namespace/kube-system") {
		t.Fatalf("CI get ns: %v\n%s%s", err, out, errOut)
	}
}

// A v1beta1 file, the version 1.30 to 1.33 read, is accepted by the same
// kube-apiserver (which reads both), with the same identities.
func TestAuthnConfigV1beta1File(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{AuthnConfigVersion: "v1beta1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	data, err := os.ReadFile(s.AuthnConfigFile)
	if err != nil || !strings.Contains(string(data), "apiVersion: apiserver.config.k8s.io/v1beta1\n") {
		t.Fatalf("want a v1beta1 file: %v\n%s", err, data)
	}
	se, err := s.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.AddCluster(ctx, "e2e"); err != nil {
		t.Fatal(err)
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email || !contains(w.Status.UserInfo.Groups, stack.ReaderGroup) {
		t.Fatalf("a person's token: API server saw %+v", w.Status.UserInfo)
	}
	for repo, accept := range map[string]bool{stack.CIRepository: true, "evil/app": false} {
		token, err := s.CI.Mint(stack.CIJob{Repository: repo, Ref: stack.CIRef, Audience: s.EndpointURL})
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := ciWhoami(t, s, token); ok != accept || (ok && w.Status.UserInfo.Username != stack.CIUsername) {
			t.Errorf("%s: accepted=%v (%+v), want %v", repo, ok, w.Status.UserInfo, accept)
		}
	}
}

// The ci-token grant end to end against the configuration this command
// wrote: a GitHub-Actions-shaped job's securekapi asks the stand-in's
// request endpoint for a token with the endpoint's audience, and the real
// kubectl is the mapped CI user through the trusted endpoint; the same job
// on another repository is refused by the API server's rule.
func TestCITokenDirectlyAtTheAPIServer(t *testing.T) {
	ctx := context.Background()
	se := ciSession(t, "--ci", "github", "--ci-issuer-url", shared.CI.URL)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.CIUsername || !contains(w.Status.UserInfo.Groups, stack.CIGroup) {
		t.Fatalf("API server saw %+v, want %s in %s", w.Status.UserInfo, stack.CIUsername, stack.CIGroup)
	}
	if r := se.Kubectl(ctx, "get", "ns", "-o", "name"); r.Err != nil || !strings.Contains(r.Stdout, "namespace/kube-system") {
		t.Fatalf("get ns: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}

	shared.CI.SetJob(stack.CIJob{Repository: "evil/app", Ref: stack.CIRef})
	defer shared.CI.SetJob(stack.DefaultCIJob)
	evil := ciSession(t, "--ci", "github", "--ci-issuer-url", shared.CI.URL)
	r := evil.Kubectl(ctx, "get", "ns")
	if r.Err == nil || !strings.Contains(r.Stderr, "Unauthorized") && !strings.Contains(r.Stderr, "must be logged in") {
		t.Fatalf("another repository's job: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
}
