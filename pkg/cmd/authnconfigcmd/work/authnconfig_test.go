package work

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/authnconfig/kubeapiserver"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"

	"github.com/securekapi/securekapi/pkg/credential/ci"
)

// fakeCluster is an API server that answers /version and the
// service-account discovery document, over TLS.
type fakeCluster struct{ srv *httptest.Server }

// clusterAt serves a cluster of version 1.minor.
func clusterAt(t *testing.T, minor string) *fakeCluster {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			json.NewEncoder(w).Encode(map[string]string{"major": "1", "minor": minor, "gitVersion": "v1." + minor + ".2"})
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": "https://kubernetes.default.svc"})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return &fakeCluster{srv: srv}
}

func (f *fakeCluster) kubeconfig(t *testing.T) string {
	return cmdtest.WriteKubeconfig(t, f.srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}))
}

const mainOnly = `claims.repository == "org/app" && claims.ref == "refs/heads/main"`

// The version comes from the cluster: 1.37 gets v1, 1.33 gets v1beta1,
// and both files pass kube-apiserver's own checks when read back.
func TestAuthnConfigPicksTheVersionFromTheCluster(t *testing.T) {
	for minor, want := range map[string]string{"37": "apiserver.config.k8s.io/v1\n", "33": "apiserver.config.k8s.io/v1beta1\n"} {
		f := clusterAt(t, minor)
		out, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdAuthnConfig,
			"--oidc-issuer-url", "https://login.example.test", "--oidc-client-id", "kubectl",
			"--audience", "https://kapi.example.test", "--ci", "github", "--ci-rule", mainOnly)
		if err != nil {
			t.Fatalf("1.%s: %v\n%s", minor, err, errOut)
		}
		if !strings.Contains(out, "apiVersion: "+want) {
			t.Fatalf("1.%s: want %s, got:\n%s", minor, want, out)
		}
		if !strings.Contains(errOut, "kube-apiserver 1."+minor) || strings.Contains(errOut, "apiVersion") {
			t.Errorf("1.%s: stderr should summarise, not repeat the file:\n%s", minor, errOut)
		}
		sv := authnconfig.ServerVersion{Major: 1, Minor: atoi(minor)}
		if _, err := kubeapiserver.Check([]byte(out), authnconfig.Target{Version: &sv}); err != nil {
			t.Fatalf("1.%s: the written file does not check: %v", minor, err)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// Bad input is refused with the reason and nothing is written.
func TestAuthnConfigRefuses(t *testing.T) {
	base := []string{"--oidc-issuer-url", "https://login.example.test", "--oidc-client-id", "kubectl", "--audience", "https://kapi.example.test"}
	cases := map[string]struct {
		minor string
		args  []string
		want  string
	}{
		"v1 for 1.33":            {"33", []string{"--api-version", "v1", "--ci", "github", "--ci-rule", mainOnly}, "does not read apiserver.config.k8s.io/v1"},
		"1.29":                   {"29", []string{"--ci", "github", "--ci-rule", mainOnly}, "no structured authentication configuration"},
		"rule does not compile":  {"37", []string{"--ci", "github", "--ci-rule", "claims.repository =="}, "compilation failed"},
		"unknown claim":          {"37", []string{"--ci", "github", "--ci-rule", `claims.repo == "org/app"`}, `unknown claim "repo"`},
		"duplicate issuer":       {"37", []string{"--ci", "github", "--ci-rule", mainOnly, "--ci", "github", "--ci-rule", mainOnly}, "duplicate issuer"},
		"service-account issuer": {"37", []string{"--ci", "oidc=https://kubernetes.default.svc"}, "service-account issuer"},
		"unprefixed username":    {"37", []string{"--oidc-username-claim", "sub"}, `username claim "sub" has no prefix`},
		"rule before --ci":       {"37", []string{"--ci-rule", mainOnly}, "--ci-rule applies to the --ci before it"},
		"no rules for github":    {"37", []string{"--ci", "github"}, "no claim rules"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := clusterAt(t, tc.minor)
			file := filepath.Join(t.TempDir(), "authn.yaml")
			out, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdAuthnConfig, append(append(append([]string(nil), base...), tc.args...), "-o", file)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.want, errOut)
			}
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			if _, statErr := os.Stat(file); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("a refused configuration was written (%v)", statErr)
			}
		})
	}
}

// Offline, --api-version is required, and then enough.
func TestAuthnConfigOffline(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	args := []string{"--oidc-issuer-url", "https://login.example.test", "--oidc-client-id", "kubectl"}
	if _, _, err := cmdtest.Run(t, missing, NewCmdAuthnConfig, args...); err == nil || !strings.Contains(err.Error(), "--api-version") {
		t.Fatalf("offline without --api-version: %v", err)
	}
	out, errOut, err := cmdtest.Run(t, missing, NewCmdAuthnConfig, append(args, "--api-version", "v1beta1")...)
	if err != nil || !strings.Contains(out, "apiserver.config.k8s.io/v1beta1") || !strings.Contains(errOut, "writing apiserver.config.k8s.io/v1beta1 as asked") {
		t.Fatalf("offline with v1beta1: %v\n%s\n%s", err, out, errOut)
	}
}

// The profile gives the people's issuer, the CI issuers and their
// audiences; the flags add the rules. `profile --ci` records them.
func TestAuthnConfigFromProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "acme.yaml")
	doc := `apiVersion: securekapi.io/v1alpha1
kind: AccessProfile
clusters:
- name: cluster-a
  server: https://kapi.example.test
  pins: ["sha256:` + strings.Repeat("a", 64) + `"]
  oidc: {issuerURL: "https://login.example.test", clientID: kubectl}
  ci:
  - {provider: github, issuerURL: "https://token.actions.githubusercontent.com", audience: "https://kapi.example.test"}
`
	if err := os.WriteFile(prof, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	f := clusterAt(t, "36")
	file := filepath.Join(dir, "authn.yaml")
	_, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdAuthnConfig, "--profile", prof, "--ci", "github", "--ci-rule", mainOnly, "-o", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeapiserver.Check(data, authnconfig.Target{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.JWT) != 2 || cfg.JWT[0].Issuer.URL != "https://login.example.test" || cfg.JWT[1].Issuer.Audiences[0] != "https://kapi.example.test" || cfg.JWT[1].ClaimValidationRules[0].Expression != mainOnly {
		t.Fatalf("from the profile: %+v", cfg.JWT)
	}
	// Windows has no Unix modes.
	if info, _ := os.Stat(file); runtime.GOOS != "windows" && info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (the file holds no secret; kube-apiserver must read it)", info.Mode())
	}
}

// --check-token says which authenticator takes a token and as whom, or
// which rule refuses it (exit 1), on stdout, without printing the token.
func TestAuthnConfigCheckToken(t *testing.T) {
	dir := t.TempDir()
	f := clusterAt(t, "37")
	file := filepath.Join(dir, "authn.yaml")
	if _, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdAuthnConfig, "--audience", "https://kapi.example.test", "--ci", "github", "--ci-rule", mainOnly, "-o", file); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	now := time.Now()
	claims := map[string]any{"iss": ci.GitHubProvider.Issuer, "aud": "https://kapi.example.test", "repository": "org/app",
		"ref": "refs/heads/main", "sub": "repo:org/app:ref:refs/heads/main", "iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-55 * time.Minute).Unix()}
	tokenFile := filepath.Join(dir, "token.jwt")
	check := func() (string, error) {
		raw := testjwt.Unsigned(claims)
		if err := os.WriteFile(tokenFile, []byte(raw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdAuthnConfig, "--from-file", file, "--check-token", tokenFile)
		if strings.Contains(out+errOut, raw) {
			t.Fatal("the token was printed")
		}
		return out, err
	}
	out, err := check()
	if err != nil || !strings.Contains(out, "result:   accepted") || !strings.Contains(out, "username: ci:github:org/app:refs/heads/main") ||
		!strings.Contains(out, "groups:   ci:github") || !strings.Contains(out, "expired; judged as if just issued") {
		t.Fatalf("main: %v\n%s", err, out)
	}
	// The sample's claims are outside text: shown escaped.
	claims["aud"] = []any{"https://kapi.example.test", "x\x1b]0;owned\x07\x1b[2J"}
	if out, err = check(); err != nil || !strings.Contains(out, `x\x1b]0;owned\x07\x1b[2J`) || strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("an audience with escape sequences: %v\n%q", err, out)
	}
	claims["aud"] = "https://kapi.example.test"
	claims["ref"] = "refs/heads/feature"
	out, err = check()
	var exit *cmdutil.ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(out, "refused") || !strings.Contains(out, `claims.ref == "refs/heads/main"`) {
		t.Fatalf("feature branch: %v\n%s", err, out)
	}
}
