package authnconfig

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/credential/ci"
)

const endpoint = "https://kapi.example.test"

func sampleSettings() Settings {
	return Settings{
		Human: &HumanIssuer{IssuerURL: "https://login.example.test", ClientID: "kubectl", GroupsPrefix: "oidc:"},
		CI: []CIIssuer{
			{Provider: "github", Audience: endpoint, Rules: []string{`claims.repository == "org/app" && claims.ref == "refs/heads/main"`}},
			{Provider: "gitlab", IssuerURL: "https://gitlab.example.test", Audience: endpoint, Rules: []string{`claims.project_path == "org/app"`}, Groups: []string{"ci:deployers"}},
			{Provider: "oidc", IssuerURL: "https://oidc.ci.example.test", Audience: "cluster-a"},
		},
	}
}

func providersOf(s Settings) map[string]Provider {
	out := map[string]Provider{}
	for _, c := range s.withDefaults().CI {
		out[c.IssuerURL] = c.Provider
	}
	return out
}

// Both file versions round-trip through kube-apiserver's own decoder and
// validation, and say which version they are.
func TestBuildEncodesFilesKubeAPIServerAccepts(t *testing.T) {
	s := sampleSettings()
	for _, gv := range []schema.GroupVersion{V1, V1beta1} {
		data, err := Encode(Build(s), gv)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "apiVersion: "+gv.String()) || !strings.Contains(string(data), "kind: AuthenticationConfiguration") {
			t.Fatalf("%s file does not name its version and kind:\n%s", gv, data)
		}
		server := ServerVersion{1, 34}
		cfg, err := Check(data, Target{Version: &server, Providers: providersOf(s)})
		if err != nil {
			t.Fatalf("%s: %v\n%s", gv, err, data)
		}
		if len(cfg.JWT) != 4 || cfg.JWT[1].Issuer.URL != ci.GitHubProvider.Issuer {
			t.Fatalf("%s: decoded %d authenticators, second %q", gv, len(cfg.JWT), cfg.JWT[1].Issuer.URL)
		}
	}
}

// Each refusal the issue names gets a message naming the issuer and the fix.
func TestCheckRefusesWithClearMessages(t *testing.T) {
	cases := map[string]struct {
		edit func(*Settings)
		want []string
	}{
		"duplicate issuer": {func(s *Settings) {
			s.CI = append(s.CI, CIIssuer{Provider: "github", Audience: "other"})
		}, []string{"duplicate issuer", ci.GitHubProvider.Issuer}},
		"missing audience":                             {func(s *Settings) { s.CI[2].Audience = "" }, []string{"issuer https://oidc.ci.example.test", "missing audience"}},
		"rule does not compile":                        {func(s *Settings) { s.CI[0].Rules = []string{`claims.repository == "org/app" &&`} }, []string{"issuer " + ci.GitHubProvider.Issuer, "claimValidationRules[0].expression", "compilation failed"}},
		"unknown claim in a rule":                      {func(s *Settings) { s.CI[0].Rules = []string{`claims.repo == "org/app"`} }, []string{`unknown claim "repo"`, "GitHub Actions", `did you mean "repository"?`}},
		"unknown claim in a mapping":                   {func(s *Settings) { s.CI[1].Username = `"ci:gitlab:" + claims.project` }, []string{`unknown claim "project"`, "GitLab CI"}},
		"unprefixed username claim":                    {func(s *Settings) { s.Human.UsernameClaim = "sub" }, []string{`username claim "sub" has no prefix`, "system:masters"}},
		"prefix that starts system:":                   {func(s *Settings) { s.Human.UsernameClaim, s.Human.UsernamePrefix = "sub", "sys" }, []string{`username prefix "sys"`}},
		"username expression without a literal prefix": {func(s *Settings) { s.CI[2].Username = "claims.sub" }, []string{"username expression claims.sub must begin with a literal prefix"}},
		"unprefixed groups":                            {func(s *Settings) { s.Human.GroupsPrefix = "" }, []string{`groups claim "groups" needs a prefix`}},
		"github without rules":                         {func(s *Settings) { s.CI[0].Rules = nil }, []string{"no claim rules", "anyone's pipeline", "--ci-rule"}},
		"group in system:":                             {func(s *Settings) { s.CI[1].Groups = []string{"system:masters"} }, []string{"every group must begin with a literal prefix"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := sampleSettings()
			tc.edit(&s)
			data, err := Encode(Build(s), V1)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Check(data, Target{Providers: providersOf(s)})
			if err == nil {
				t.Fatalf("accepted:\n%s", data)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// The version is picked from the server, and a version the server does not
// read is refused before anything is written.
func TestChooseFileVersion(t *testing.T) {
	v := func(minor int) *ServerVersion { return &ServerVersion{1, minor} }
	gv := func(g schema.GroupVersion) *schema.GroupVersion { return &g }
	if got, err := ChooseFileVersion(v(37), nil); err != nil || got != V1 {
		t.Errorf("1.37: %v %v, want v1", got, err)
	}
	if got, err := ChooseFileVersion(v(33), nil); err != nil || got != V1beta1 {
		t.Errorf("1.33: %v %v, want v1beta1", got, err)
	}
	if got, err := ChooseFileVersion(v(36), gv(V1beta1)); err != nil || got != V1beta1 {
		t.Errorf("1.36 asked v1beta1: %v %v", got, err)
	}
	if _, err := ChooseFileVersion(v(33), gv(V1)); err == nil || !strings.Contains(err.Error(), "does not read apiserver.config.k8s.io/v1") || !strings.Contains(err.Error(), "--api-version v1beta1") {
		t.Errorf("1.33 asked v1: %v", err)
	}
	if _, err := ChooseFileVersion(v(29), nil); err == nil || !strings.Contains(err.Error(), "--oidc-* flags") {
		t.Errorf("1.29: %v", err)
	}
	if _, err := ChooseFileVersion(nil, nil); err == nil || !strings.Contains(err.Error(), "--api-version") {
		t.Errorf("offline with no version: %v", err)
	}
	// A v1 file checked for a 1.33 server is a version mismatch.
	data, _ := Encode(Build(sampleSettings()), V1)
	if _, err := Check(data, Target{Version: v(33)}); err == nil || !strings.Contains(err.Error(), "does not read") {
		t.Errorf("v1 file for 1.33: %v", err)
	}
	if sv, err := ParseServerVersion("1", "30+"); err != nil || sv != (ServerVersion{1, 30}) {
		t.Errorf(`ParseServerVersion("1", "30+") = %v, %v`, sv, err)
	}
}

// A file kube-apiserver would not parse is refused as such: a typo in a
// field name is not silently dropped.
func TestCheckRefusesUnknownFields(t *testing.T) {
	data := []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer:\n    url: https://x.example.test\n    audience: [a]\n  claimMappings:\n    username: {claim: sub, prefix: 'x:'}\n")
	if _, err := Check(data, Target{}); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("unknown field: %v", err)
	}
}

// The service-account issuer cannot double as a JWT issuer.
func TestCheckRefusesTheServiceAccountIssuer(t *testing.T) {
	s := Settings{CI: []CIIssuer{{Provider: "oidc", IssuerURL: "https://kubernetes.default.svc", Audience: "a"}}}
	data, _ := Encode(Build(s), V1)
	if _, err := Check(data, Target{ServiceAccountIssuers: []string{"https://kubernetes.default.svc"}}); err == nil || !strings.Contains(err.Error(), "service-account issuer") {
		t.Fatalf("got %v", err)
	}
}

func githubClaims(now time.Time, edit map[string]any) map[string]any {
	c := map[string]any{
		"iss": ci.GitHubProvider.Issuer, "aud": endpoint, "sub": "repo:org/app:ref:refs/heads/main",
		"repository": "org/app", "ref": "refs/heads/main", "repository_owner": "org",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	for k, v := range edit {
		c[k] = v
	}
	return c
}

// --check-token: the authenticator kube-apiserver would use, the identity it
// maps to, or the rule that refuses, with kube-apiserver's own judgement.
func TestCheckToken(t *testing.T) {
	s := sampleSettings()
	data, _ := Encode(Build(s), V1)
	cfg, err := Check(data, Target{Providers: providersOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	check := func(claims map[string]any) *Verdict {
		t.Helper()
		v, err := CheckToken(context.Background(), cfg, Target{}, testjwt.Unsigned(claims), now)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	v := check(githubClaims(now, nil))
	if !v.Accepted || v.Authenticator != 1 || v.Username != "ci:github:org/app:refs/heads/main" || strings.Join(v.Groups, ",") != "ci:github" {
		t.Fatalf("main branch: %+v", v)
	}
	v = check(githubClaims(now, map[string]any{"ref": "refs/heads/feature"}))
	if v.Accepted || !strings.Contains(v.Reason, `claims.ref == "refs/heads/main"`) {
		t.Fatalf("feature branch: %+v", v)
	}
	v = check(githubClaims(now, map[string]any{"repository": "evil/app"}))
	if v.Accepted || !strings.Contains(v.Reason, "do not satisfy") {
		t.Fatalf("other repository: %+v", v)
	}
	v = check(githubClaims(now, map[string]any{"aud": "https://other.example.test"}))
	if v.Accepted || !strings.Contains(v.Reason, "aud") {
		t.Fatalf("other audience: %+v", v)
	}
	v = check(githubClaims(now, map[string]any{"iss": "https://evil.example.test"}))
	if v.Accepted || v.Authenticator != -1 || !strings.Contains(v.Reason, "no authenticator for issuer") {
		t.Fatalf("unknown issuer: %+v", v)
	}
	// A sample saved from an old run: expired, but judged on its claims.
	old := now.Add(-time.Hour)
	v = check(githubClaims(old, map[string]any{"iat": old.Unix(), "exp": old.Add(5 * time.Minute).Unix()}))
	if !v.Accepted || !v.Expired {
		t.Fatalf("expired sample: %+v", v)
	}
	// The human IdP: email needs email_verified, groups get the prefix.
	human := map[string]any{"iss": "https://login.example.test", "aud": "kubectl", "sub": "u1", "email": "alice@example.test",
		"email_verified": true, "groups": []string{"readers"}, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	v = check(human)
	if !v.Accepted || v.Username != "alice@example.test" || strings.Join(v.Groups, ",") != "oidc:readers" {
		t.Fatalf("human: %+v", v)
	}
	human["email_verified"] = false
	if v = check(human); v.Accepted || !strings.Contains(v.Reason, "email not verified") {
		t.Fatalf("unverified email: %+v", v)
	}
	// A group named system:masters from the IdP cannot reach the reserved
	// namespace: the prefix makes it oidc:system:masters.
	human["email_verified"] = true
	human["groups"] = []string{"system:masters"}
	if v = check(human); !v.Accepted || v.Groups[0] != "oidc:system:masters" {
		t.Fatalf("system group from the IdP: %+v", v)
	}
	if _, err := CheckToken(context.Background(), cfg, Target{}, "not-a-jwt", now); err == nil || !strings.Contains(err.Error(), "not a JWT") {
		t.Fatalf("garbage: %v", err)
	}
}

// The reserved-name rules Build adds make kube-apiserver refuse a system:
// identity even when a mapping would produce one.
func TestReservedNameRulesHoldAtTheAPIServer(t *testing.T) {
	s := Settings{CI: []CIIssuer{{Provider: "oidc", IssuerURL: "https://oidc.ci.example.test", Audience: "a", Username: `"ci:" + claims.sub`, Groups: []string{"ci:x"}}}}
	cfg := Build(s)
	// Hand-edit the mapping past Policy, as someone might in the file.
	cfg.JWT[0].ClaimMappings.Username.Expression = "claims.sub"
	now := time.Now()
	v, err := CheckToken(context.Background(), cfg, Target{}, testjwt.Unsigned(map[string]any{"iss": "https://oidc.ci.example.test", "aud": "a", "sub": "system:admin", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}), now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Accepted || !strings.Contains(v.Reason, "reserves") {
		t.Fatalf("system:admin via an unprefixed mapping: %+v", v)
	}
}
