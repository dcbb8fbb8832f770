package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// ciSubject is the identity Dex's CI connector gives the stand-in's default
// job: its sub claim as the email the API server takes the username from,
// its repository as the group (with the API server's oidc: prefix).
const (
	ciSubject = "repo:org/app:ref:refs/heads/main"
	ciGroup   = "oidc:org/app"
)

// ciSession is a CI job's machine: a session whose environment is a GitHub
// Actions job's (the stand-in's ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN,
// and its CA as the system roots a GitHub Enterprise runner would have),
// with cluster e2e set up by `use e2e --approve` plus useArgs.
func ciSession(t *testing.T, useArgs ...string) *stack.Session {
	t.Helper()
	ctx := context.Background()
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.AddCluster(ctx, "e2e"); err != nil {
		t.Fatal(err)
	}
	se.Env = append(se.Env, "CI=true", "GITHUB_ACTIONS=true",
		"ACTIONS_ID_TOKEN_REQUEST_URL="+shared.CI.RequestURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+shared.CI.RequestToken,
		"SSL_CERT_FILE="+shared.CI.CAFile)
	if r := se.Securekapi(ctx, append([]string{"use", "e2e", "--approve"}, useArgs...)...); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	return se
}

// grantCIReaders lets the exchanged CI job's group read namespaces.
func grantCIReaders(t *testing.T) {
	t.Helper()
	grantReaders(t, ciGroup)
}

// grantReaders lets group read namespaces.
func grantReaders(t *testing.T, group string) {
	t.Helper()
	rbac := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-ci-reader}
rules:
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "e2e-ci-reader-` + strings.NewReplacer(":", "-", "/", "-").Replace(group) + `"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-ci-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "` + group + `"}
`
	if out, err := shared.AdminKubectl(context.Background(), []byte(rbac), "apply", "-f", "-"); err != nil {
		t.Fatalf("rbac: %v\n%s", err, out)
	}
}

var tokenExchangeArgs = []string{"--ci", "github", "--ci-grant", "token-exchange", "--token-exchange-connector-id", stack.CIConnectorID}

// TestCITokenExchangeThroughDex: a GitHub-Actions-shaped job's own OIDC
// token is exchanged (RFC 8693) at the real Dex, whose oidc connector
// trusts the CI issuer, for Dex's ID token for the cluster's client; the
// real kubectl then acts as the CI identity through the trusted endpoint.
// 20 parallel kubectl calls make one token request at the CI provider.
func TestCITokenExchangeThroughDex(t *testing.T) {
	grantCIReaders(t)
	se := ciSession(t, tokenExchangeArgs...)
	ctx := context.Background()
	before := shared.CI.TokenRequests()

	w := kubectlWhoami(t, se)
	if w.Status.UserInfo.Username != ciSubject || !contains(w.Status.UserInfo.Groups, ciGroup) {
		t.Fatalf("whoami = %+v, want %s in %s", w.Status.UserInfo, ciSubject, ciGroup)
	}

	var wg sync.WaitGroup
	results := make([]stack.Result, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = se.Kubectl(ctx, "get", "ns", "-o", "name")
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.Err != nil || !strings.Contains(r.Stdout, "namespace/default") {
			t.Fatalf("kubectl call %d: %v\n%s%s", i, r.Err, r.Stdout, r.Stderr)
		}
		if strings.Contains(r.Stderr, "eyJ") {
			t.Fatalf("kubectl call %d printed a token:\n%s", i, r.Stderr)
		}
	}
	if n := shared.CI.TokenRequests() - before; n != 1 {
		t.Errorf("whoami and 20 parallel kubectl calls made %d token requests at the CI provider, want 1", n)
	}

	t.Run("the token goes to no other server", func(t *testing.T) {
		rogue, err := stack.NewCA("Rogue Root CA")
		if err != nil {
			t.Fatal(err)
		}
		mitm := startAttacker(t, issue(t, rogue, stack.EndpointServerName))
		s := overrideCluster(t, se, &clientcmdapi.Cluster{Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName,
			CertificateAuthorityData: concatPEM(shared.EnterpriseCA.CertPEM, rogue.CertPEM), ProxyURL: mitm.URL()})
		requests := shared.CI.TokenRequests()
		r := s.Kubectl(ctx, "get", "ns", "--request-timeout=30s")
		if got := mitm.tokens(); len(got) > 0 {
			t.Fatalf("the attacker received %d credentials: %v", len(got), got)
		}
		if r.Err == nil || !strings.Contains(r.Stderr, "refusing to release a token") {
			t.Fatalf("kubectl did not fail with the refusal: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
		if shared.CI.TokenRequests() != requests {
			t.Error("a CI token was requested for the attacker's cluster")
		}
	})
}

// TestCITokenExchangeRefusals: an exchange Dex refuses (a forged CI token;
// a connector Dex does not have) fails kubectl at once with the reason and
// the setting to fix, and prints no token.
func TestCITokenExchangeRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("forged CI token", func(t *testing.T) {
		shared.CI.SetJob(stack.CIJob{Repository: "org/app", Ref: "refs/heads/main", UntrustedKey: true})
		defer shared.CI.SetJob(stack.DefaultCIJob)
		se := ciSession(t, tokenExchangeArgs...)
		r := se.Kubectl(ctx, "get", "ns")
		if r.Err == nil || !strings.Contains(r.Stderr, "token exchange at "+shared.IssuerURL) || !strings.Contains(r.Stderr, "access_denied") {
			t.Fatalf("kubectl: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
		if r.Stdout != "" || strings.Contains(r.Stderr, "eyJ") {
			t.Fatalf("a token or data reached the output:\n%s%s", r.Stdout, r.Stderr)
		}
	})
	t.Run("unknown connector", func(t *testing.T) {
		se := ciSession(t, "--ci", "github", "--ci-grant", "token-exchange", "--token-exchange-connector-id", "nope")
		r := se.Kubectl(ctx, "get", "ns")
		if r.Err == nil || !strings.Contains(r.Stderr, "Requested connector does not exist") || !strings.Contains(r.Stderr, "through connector nope") {
			t.Fatalf("kubectl: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
	})
	t.Run("not a GitHub job", func(t *testing.T) {
		se := ciSession(t, tokenExchangeArgs...)
		var env []string
		for _, kv := range se.Env {
			if !strings.HasPrefix(kv, "ACTIONS_ID_TOKEN_REQUEST_") {
				env = append(env, kv)
			}
		}
		se.Env = env
		r := se.Kubectl(ctx, "get", "ns")
		if r.Err == nil || !strings.Contains(r.Stderr, "ACTIONS_ID_TOKEN_REQUEST_URL is not set") || !strings.Contains(r.Stderr, "id-token: write") {
			t.Fatalf("kubectl: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
	})
}

// TestDeviceFlowInACILog: with stderr a file, as in a CI log, the device
// flow writes one plain line with the URL carrying the code and the
// expiry: no QR code, no carriage-return countdown, no escape sequences;
// and --login-timeout ends an unapproved login on time.
func TestDeviceFlowInACILog(t *testing.T) {
	se := newSession(t, stack.Reader)
	start := func(t *testing.T, timeout string) (*exec.Cmd, string) {
		log := filepath.Join(t.TempDir(), "job.log")
		f, err := os.Create(log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		cmd := exec.Command(se.Plugin, "login", "e2e", "--approve", "--grant", "device-code", "--login-timeout", timeout)
		cmd.Env = append(se.Environ(), "CI=true")
		cmd.Stderr = f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return cmd, log
	}
	waitLine := func(t *testing.T, log string) (uri, code string) {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			data, _ := os.ReadFile(log)
			if m := deviceLineRe.FindStringSubmatch(string(data)); m != nil {
				return m[1], m[2]
			}
			time.Sleep(100 * time.Millisecond)
		}
		data, _ := os.ReadFile(log)
		t.Fatalf("no device line in the log:\n%s", data)
		return "", ""
	}
	checkLog := func(t *testing.T, log string) string {
		data, _ := os.ReadFile(log)
		text := string(data)
		if strings.ContainsAny(text, "\r\x1b\u2580\u2584\u2588") {
			t.Errorf("control characters or a QR code in the log:\n%q", text)
		}
		if n := len(deviceLineRe.FindAllString(text, -1)); n != 1 || strings.Count(text, "/device") != 1 {
			t.Errorf("the log holds %d device lines, want one, and the URL once:\n%s", n, text)
		}
		line := deviceLineRe.FindString(text)
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, line) && !strings.Contains(l, "the code expires at ") {
				t.Errorf("the device line lacks the expiry: %q", l)
			}
		}
		return text
	}

	t.Run("approved", func(t *testing.T) {
		cmd, log := start(t, "2m")
		uri, code := waitLine(t, log)
		b := &stack.Browser{User: stack.Reader, DexCAPEM: shared.DexCA.CertPEM, UserCode: code}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := b.Open(ctx, uri); err != nil {
			t.Fatalf("approve the device code: %v", err)
		}
		if err := cmd.Wait(); err != nil {
			data, _ := os.ReadFile(log)
			t.Fatalf("device login failed: %v\n%s", err, data)
		}
		text := checkLog(t, log)
		if !strings.Contains(text, "Logged in to") {
			t.Errorf("the log does not say the login finished:\n%s", text)
		}
	})

	t.Run("login timeout", func(t *testing.T) {
		began := time.Now()
		cmd, log := start(t, "4s")
		waitLine(t, log)
		err := cmd.Wait()
		if took := time.Since(began); err == nil || took > 20*time.Second {
			t.Fatalf("unapproved login: err %v after %s", err, took)
		}
		text := checkLog(t, log)
		if !strings.Contains(text, "timed out") || !strings.Contains(text, "(--login-timeout)") {
			t.Errorf("the log does not say the login timed out, and why:\n%s", text)
		}
	})
}

// TestCIAutoGrant: one kubeconfig for a person and a CI job (use --ci github
// --ci-grant auto): in the job, kubectl acts as the CI identity by token
// exchange with no person; off the job it is the person's login, which
// kubectl never starts by itself.
func TestCIAutoGrant(t *testing.T) {
	grantCIReaders(t)
	se := ciSession(t, "--ci", "github", "--ci-grant", "auto", "--token-exchange-connector-id", stack.CIConnectorID)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != ciSubject {
		t.Fatalf("in the CI job, whoami = %+v", w.Status.UserInfo)
	}
	person := *se
	person.Env = nil
	r := person.Kubectl(context.Background(), "get", "ns")
	if r.Err == nil || !strings.Contains(r.Stderr, "kubectl securekapi login e2e") {
		t.Fatalf("off the job, before a login: %v\n%s", r.Err, r.Stderr)
	}
	if r := person.Securekapi(context.Background(), "login", "e2e", "--approve", "--browser-command", person.BrowserCommand()); r.Err != nil {
		t.Fatalf("login: %v\n%s", r.Err, r.Stderr)
	}
	if w := kubectlWhoami(t, &person); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("off the job, whoami = %+v", w.Status.UserInfo)
	}
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != ciSubject {
		t.Fatalf("back in the job, whoami = %+v", w.Status.UserInfo)
	}
}

// TestCIGitLabVariable: a GitLab-style job, whose id_tokens put its token in
// KAPI_ID_TOKEN, exchanges it at the real Dex; an expired token and one for
// another audience fail before anything is sent, naming the variable and
// the id_tokens setting to fix.
func TestCIGitLabVariable(t *testing.T) {
	grantCIReaders(t)
	ctx := context.Background()
	se := ciSession(t, "--ci", "gitlab", "--ci-token-var", "KAPI_ID_TOKEN", "--ci-grant", "token-exchange", "--token-exchange-connector-id", stack.CIConnectorID)
	withToken := func(t *testing.T, job stack.CIJob) *stack.Session {
		t.Helper()
		tok, err := shared.CI.Mint(job)
		if err != nil {
			t.Fatal(err)
		}
		s := *se
		s.Env = append(append([]string{}, se.Env...), "KAPI_ID_TOKEN="+tok)
		return &s
	}
	job := stack.DefaultCIJob
	job.Audience = shared.IssuerURL // GitLab: aud set in the job's id_tokens; for the exchange, the issuer
	if w := kubectlWhoami(t, withToken(t, job)); w.Status.UserInfo.Username != ciSubject {
		t.Fatalf("whoami = %+v", w.Status.UserInfo)
	}
	for name, tc := range map[string]struct {
		job  stack.CIJob
		want []string
	}{
		"expired":        {stack.CIJob{Repository: "org/app", Ref: "refs/heads/main", Audience: shared.IssuerURL, IssuedAt: time.Now().Add(-time.Hour)}, []string{"$KAPI_ID_TOKEN expired at", "once when the job starts"}},
		"wrong audience": {stack.CIJob{Repository: "org/app", Ref: "refs/heads/main", Audience: "https://gitlab.example.com"}, []string{"expects " + shared.IssuerURL, "`aud: " + shared.IssuerURL + "` for KAPI_ID_TOKEN"}},
	} {
		t.Run(name, func(t *testing.T) {
			s := ciSession(t, "--ci", "gitlab", "--ci-token-var", "KAPI_ID_TOKEN", "--ci-grant", "token-exchange", "--token-exchange-connector-id", stack.CIConnectorID)
			tok, err := shared.CI.Mint(tc.job)
			if err != nil {
				t.Fatal(err)
			}
			s.Env = append(s.Env, "KAPI_ID_TOKEN="+tok)
			r := s.Kubectl(ctx, "get", "ns")
			if r.Err == nil || r.Stdout != "" {
				t.Fatalf("kubectl: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
				}
			}
			if strings.Contains(r.Stderr, tok[:40]) {
				t.Errorf("the CI token reached stderr")
			}
		})
	}
}
