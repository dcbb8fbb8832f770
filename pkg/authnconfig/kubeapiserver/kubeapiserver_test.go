package kubeapiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	apiv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	apiv1beta1 "k8s.io/apiserver/pkg/apis/apiserver/v1beta1"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/credential/ci"
)

const endpoint = "https://kapi.example.test"

func sampleSettings() authnconfig.Settings {
	return authnconfig.Settings{
		Human: &authnconfig.HumanIssuer{IssuerURL: "https://login.example.test", ClientID: "kubectl", GroupsPrefix: "oidc:"},
		CI: []authnconfig.CIIssuer{
			{Provider: "github", Audience: endpoint, Rules: []string{`claims.repository == "org/app" && claims.ref == "refs/heads/main"`}},
			{Provider: "gitlab", IssuerURL: "https://gitlab.example.test", Audience: endpoint, Rules: []string{`claims.project_path == "org/app"`}, Groups: []string{"ci:deployers"}},
			{Provider: "oidc", IssuerURL: "https://oidc.ci.example.test", Audience: "cluster-a"},
		},
	}
}

func providersOf(s authnconfig.Settings) map[string]authnconfig.Provider {
	out := map[string]authnconfig.Provider{}
	for _, c := range s.WithDefaults().CI {
		out[c.IssuerURL] = c.Provider
	}
	return out
}

// Both file versions round-trip through kube-apiserver's own decoder and
// validation, and say which version they are.
func TestBuildEncodesFilesKubeAPIServerAccepts(t *testing.T) {
	s := sampleSettings()
	for _, gv := range []schema.GroupVersion{authnconfig.V1, authnconfig.V1beta1} {
		data, err := Encode(Build(s), gv)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "apiVersion: "+gv.String()) || !strings.Contains(string(data), "kind: AuthenticationConfiguration") {
			t.Fatalf("%s file does not name its version and kind:\n%s", gv, data)
		}
		server := authnconfig.ServerVersion{Major: 1, Minor: 34}
		cfg, err := Check(data, authnconfig.Target{Version: &server, Providers: providersOf(s)})
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
		edit func(*authnconfig.Settings)
		want []string
	}{
		"duplicate issuer": {func(s *authnconfig.Settings) {
			s.CI = append(s.CI, authnconfig.CIIssuer{Provider: "github", Audience: "other"})
		}, []string{"duplicate issuer", ci.GitHubProvider.Issuer}},
		"missing audience":                             {func(s *authnconfig.Settings) { s.CI[2].Audience = "" }, []string{"issuer https://oidc.ci.example.test", "missing audience"}},
		"rule does not compile":                        {func(s *authnconfig.Settings) { s.CI[0].Rules = []string{`claims.repository == "org/app" &&`} }, []string{"issuer " + ci.GitHubProvider.Issuer, "claimValidationRules[0].expression", "compilation failed"}},
		"unknown claim in a rule":                      {func(s *authnconfig.Settings) { s.CI[0].Rules = []string{`claims.repo == "org/app"`} }, []string{`unknown claim "repo"`, "GitHub Actions", `did you mean "repository"?`}},
		"unknown claim in a mapping":                   {func(s *authnconfig.Settings) { s.CI[1].Username = `"ci:gitlab:" + claims.project` }, []string{`unknown claim "project"`, "GitLab CI"}},
		"unprefixed username claim":                    {func(s *authnconfig.Settings) { s.Human.UsernameClaim = "sub" }, []string{`username claim "sub" has no prefix`, "system:masters"}},
		"prefix that starts system:":                   {func(s *authnconfig.Settings) { s.Human.UsernameClaim, s.Human.UsernamePrefix = "sub", "sys" }, []string{`username prefix "sys"`}},
		"username expression without a literal prefix": {func(s *authnconfig.Settings) { s.CI[2].Username = "claims.sub" }, []string{"username expression claims.sub must begin with a literal prefix"}},
		"unprefixed groups":                            {func(s *authnconfig.Settings) { s.Human.GroupsPrefix = "" }, []string{`groups claim "groups" needs a prefix`}},
		"github without rules":                         {func(s *authnconfig.Settings) { s.CI[0].Rules = nil }, []string{"no claim rules", "anyone's pipeline", "--ci-rule"}},
		"group in system:":                             {func(s *authnconfig.Settings) { s.CI[1].Groups = []string{"system:masters"} }, []string{"every group must begin with a literal prefix"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := sampleSettings()
			tc.edit(&s)
			data, err := Encode(Build(s), authnconfig.V1)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Check(data, authnconfig.Target{Providers: providersOf(s)})
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

// A v1 file checked for a 1.33 server is a version mismatch; the versions
// pkg/authnconfig spells out are k8s.io/apiserver's.
func TestCheckRefusesAFileTheServerDoesNotRead(t *testing.T) {
	if authnconfig.V1 != apiv1.SchemeGroupVersion || authnconfig.V1beta1 != apiv1beta1.ConfigSchemeGroupVersion {
		t.Fatalf("authnconfig.V1 %v, V1beta1 %v; k8s.io/apiserver has %v, %v", authnconfig.V1, authnconfig.V1beta1, apiv1.SchemeGroupVersion, apiv1beta1.ConfigSchemeGroupVersion)
	}
	data, _ := Encode(Build(sampleSettings()), authnconfig.V1)
	if _, err := Check(data, authnconfig.Target{Version: &authnconfig.ServerVersion{Major: 1, Minor: 33}}); err == nil || !strings.Contains(err.Error(), "does not read") {
		t.Errorf("v1 file for 1.33: %v", err)
	}
}

// A file kube-apiserver would not parse is refused as such: a typo in a
// field name is not silently dropped.
func TestCheckRefusesUnknownFields(t *testing.T) {
	data := []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer:\n    url: https://x.example.test\n    audience: [a]\n  claimMappings:\n    username: {claim: sub, prefix: 'x:'}\n")
	if _, err := Check(data, authnconfig.Target{}); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Fatalf("unknown field: %v", err)
	}
}

// The service-account issuer cannot double as a JWT issuer.
func TestCheckRefusesTheServiceAccountIssuer(t *testing.T) {
	s := authnconfig.Settings{CI: []authnconfig.CIIssuer{{Provider: "oidc", IssuerURL: "https://kubernetes.default.svc", Audience: "a"}}}
	data, _ := Encode(Build(s), authnconfig.V1)
	if _, err := Check(data, authnconfig.Target{ServiceAccountIssuers: []string{"https://kubernetes.default.svc"}}); err == nil || !strings.Contains(err.Error(), "service-account issuer") {
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
	data, _ := Encode(Build(s), authnconfig.V1)
	cfg, err := Check(data, authnconfig.Target{Providers: providersOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	check := func(claims map[string]any) *Verdict {
		t.Helper()
		v, err := CheckToken(context.Background(), cfg, authnconfig.Target{}, testjwt.Unsigned(claims), now)
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
	if _, err := CheckToken(context.Background(), cfg, authnconfig.Target{}, "not-a-jwt", now); err == nil || !strings.Contains(err.Error(), "not a JWT") {
		t.Fatalf("garbage: %v", err)
	}
}

// The reserved-name rules Build adds make kube-apiserver refuse a system:
// identity even when a mapping would produce one.
func TestReservedNameRulesHoldAtTheAPIServer(t *testing.T) {
	s := authnconfig.Settings{CI: []authnconfig.CIIssuer{{Provider: "oidc", IssuerURL: "https://oidc.ci.example.test", Audience: "a", Username: `"ci:" + claims.sub`, Groups: []string{"ci:x"}}}}
	cfg := Build(s)
	// Hand-edit the mapping past Policy, as someone might in the file.
	cfg.JWT[0].ClaimMappings.Username.Expression = "claims.sub"
	now := time.Now()
	v, err := CheckToken(context.Background(), cfg, authnconfig.Target{}, testjwt.Unsigned(map[string]any{"iss": "https://oidc.ci.example.test", "aud": "a", "sub": "system:admin", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}), now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Accepted || !strings.Contains(v.Reason, "reserves") {
		t.Fatalf("system:admin via an unprefixed mapping: %+v", v)
	}
}
