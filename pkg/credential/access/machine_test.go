package access

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"

	"github.com/securekapi/securekapi/pkg/credential/ci"
)

func parse(t *testing.T, args ...string) *Flags {
	t.Helper()
	var a Flags
	if _, err := a.ParseExecArgs(append([]string{"--oidc-issuer-url", "https://dex.example.com", "--oidc-client-id", "kubectl"}, args...)); err != nil {
		t.Fatal(err)
	}
	return &a
}

func TestMachineGrantsValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" means valid
	}{
		{[]string{"--grant", "ci-token", "--ci-token-source", "github"}, ""},
		{[]string{"--grant", "token-exchange", "--ci-token-source", "gitlab", "--ci-token-var", "KAPI_ID_TOKEN"}, ""},
		{[]string{"--grant", "ci-token", "--ci-token-source", "file", "--ci-token-file", "/var/run/token"}, ""},
		{[]string{"--grant", "client-credentials", "--client-secret-env", "KAPI_SECRET"}, ""},
		{[]string{"--grant", "ci-token"}, "needs --ci-token-source"},
		{[]string{"--grant", "ci-token", "--ci-token-source", "gitlab"}, "needs --ci-token-var"},
		{[]string{"--grant", "ci-token", "--ci-token-source", "file"}, "needs --ci-token-file"},
		{[]string{"--grant", "ci-token", "--ci-token-source", "jenkins"}, `"jenkins": use github, gitlab, file`},
		{[]string{"--grant", "client-credentials"}, "exactly one of --client-secret-file PATH or --client-secret-env VARIABLE"},
		{[]string{"--grant", "client-credentials", "--client-secret-env", "A", "--client-secret-file", "/s"}, "exactly one"},
		{[]string{"--grant", "ci-token", "--ci-token-source", "github", "--client-secret-env", "A"}, "no client secret"},
		{[]string{"--grant", "ci-token", "--ci-token-source", "github", "--token-cache", "keyring"}, "never kept in the keyring"},
		{[]string{"--audience", "kube"}, "--audience kube is for CI grants"},
		{[]string{"--grant", "password"}, "or ci-token, token-exchange, client-credentials"},
	} {
		err := parse(t, tc.args...).Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestMachineKeysAreTheirOwn: a CI grant's tokens never share an entry (or
// an approval) with a person's login for the same issuer and client, nor
// with another source's.
func TestMachineKeysAreTheirOwn(t *testing.T) {
	person := parse(t).Key().ID()
	exchange := parse(t, "--grant", "token-exchange", "--ci-token-source", "github").Key().ID()
	exchangeGitLab := parse(t, "--grant", "token-exchange", "--ci-token-source", "gitlab", "--ci-token-var", "T").Key().ID()
	direct := parse(t, "--grant", "ci-token", "--ci-token-source", "github").Key().ID()
	otherAudience := parse(t, "--grant", "ci-token", "--ci-token-source", "github", "--audience", "other").Key().ID()
	seen := map[string]bool{}
	for _, id := range []string{person, exchange, exchangeGitLab, direct, otherAudience} {
		if seen[id] {
			t.Fatalf("two different grants share the key %s", id)
		}
		seen[id] = true
	}
}

// TestSourceFingerprintFollowsTheJob: it changes with the job's material
// and is empty when that is missing or for a person's login.
func TestSourceFingerprintFollowsTheJob(t *testing.T) {
	gh := parse(t, "--grant", "ci-token", "--ci-token-source", "github")
	job := func(token string) func(string) string {
		return func(k string) string {
			if k == ci.GitHubRequestTokenVar {
				return token
			}
			return ""
		}
	}
	a, b := gh.Source(job("job-1")), gh.Source(job("job-2"))
	if a == "" || a == b || gh.Source(job("")) != "" {
		t.Errorf("github fingerprints: %q %q", a, b)
	}
	if strings.Contains(a, "job-1") {
		t.Error("the fingerprint shows the material")
	}
	if parse(t).Source(job("job-1")) != "" {
		t.Error("a person's login has a fingerprint")
	}
	file := filepath.Join(t.TempDir(), "token")
	f := parse(t, "--grant", "ci-token", "--ci-token-source", "file", "--ci-token-file", file)
	if f.Source(job("")) != "" {
		t.Error("a missing file has a fingerprint")
	}
	_ = os.WriteFile(file, []byte("one"), 0o600)
	one := f.Source(job(""))
	_ = os.WriteFile(file, []byte("two"), 0o600)
	if one == "" || one == f.Source(job("")) {
		t.Error("a rotated file keeps its fingerprint")
	}
	cc := parse(t, "--grant", "client-credentials", "--client-secret-env", ci.GitHubRequestTokenVar)
	s1, s2 := cc.Source(job("secret-1")), cc.Source(job("secret-2"))
	if s1 == "" || s1 == s2 || cc.Source(job("")) != "" || s1 != cc.Source(job("secret-1\n")) {
		t.Errorf("client-credentials fingerprints: %q %q", s1, s2)
	}
	if s1 == gh.Source(job("secret-1")) {
		t.Error("a client secret and a CI token share a fingerprint domain")
	}
}

// TestMachineGrantsUseTheFileStore: never the keyring, whatever auto or
// SECUREKAPI_TOKEN_CACHE says; none stays none.
func TestMachineGrantsUseTheFileStore(t *testing.T) {
	for _, tc := range []struct {
		flag, env, want string
	}{{"", "", "file"}, {"", "keyring", "file"}, {"auto", "", "file"}, {"none", "", "none"}, {"file", "", "file"}} {
		a := parse(t, "--grant", "ci-token", "--ci-token-source", "github", "--cache-dir", t.TempDir(), "--token-cache", tc.flag)
		getenv := func(k string) string {
			if k == "SECUREKAPI_TOKEN_CACHE" {
				return tc.env
			}
			return ""
		}
		choice := a.StoreChoice()
		dir, err := tokenstore.ResolveCacheDir(choice, getenv)
		if err != nil {
			t.Fatal(err)
		}
		store, err := tokenstore.OpenChoice(choice, dir, getenv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if store.Kind() != tc.want {
			t.Errorf("--token-cache %q, SECUREKAPI_TOKEN_CACHE %q: store %s, want %s", tc.flag, tc.env, store.Kind(), tc.want)
		}
	}
}

// TestMachineExecArgsRoundTrip: what `use` writes is what the credential
// path reads.
func TestMachineExecArgsRoundTrip(t *testing.T) {
	m := grant.Machine{Audience: "https://kapi.example.com", CISource: "gitlab", CITokenVar: "KAPI_ID_TOKEN", CITokenFile: "/t",
		CITokenAudience: "https://dex", ExchangeConnectorID: "gitlab", ClientSecretFile: "/s", ClientSecretEnv: "S"}
	a := parse(t, (&Flags{Grant: grant.TokenExchange, Machine: m}).ExecArgs()...)
	if a.Machine != m || a.Grant != grant.TokenExchange {
		t.Errorf("round trip: %+v, grant %s", a.Machine, a.Grant)
	}
}

// TestAutoIsTheCIGrantOnlyInACIJob: --grant auto with a CI source is token
// exchange where the source's variables are, and a person's login
// elsewhere, each under its own key.
func TestAutoIsTheCIGrantOnlyInACIJob(t *testing.T) {
	person := parse(t).Key().ID()
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"laptop":            {nil, grant.Auto},
		"GitHub job":        {map[string]string{ci.GitHubRequestURLVar: "https://x/?api-version=2.0", ci.GitHubRequestTokenVar: "t"}, grant.TokenExchange},
		"half a GitHub job": {map[string]string{ci.GitHubRequestURLVar: "https://x/?api-version=2.0"}, grant.Auto},
	} {
		a := parse(t, "--ci-token-source", "github")
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		a.ResolveAuto(func(k string) string { return tc.env[k] })
		if a.Grant != tc.want {
			t.Errorf("%s: grant %s, want %s", name, a.Grant, tc.want)
		}
		if (a.Key().ID() == person) != (tc.want == grant.Auto) {
			t.Errorf("%s: key shared with the person's login: %v", name, a.Key().ID() == person)
		}
	}
	if err := parse(t, "--ci-token-source", "gitlab").Validate(); err == nil || !strings.Contains(err.Error(), "--ci-token-var") {
		t.Errorf("auto with an incomplete source: %v", err)
	}
}
