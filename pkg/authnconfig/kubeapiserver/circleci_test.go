package kubeapiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/authnconfig"
)

// TestCircleCIIssuerAsKubeAPIServerJudgesIt: an organization's CircleCI
// issuer, bound to a project by a rule on its documented claim, passes
// kube-apiserver's own validation; its job token maps to
// ci:circleci:PROJECT, another project's is refused; with no rule Policy
// refuses the issuer (every project of the organization gets a token for
// the organization's ID).
func TestCircleCIIssuerAsKubeAPIServerJudgesIt(t *testing.T) {
	const org, issuer = "0c7a5e3b-org", "https://oidc.circleci.com/org/0c7a5e3b-org"
	s := authnconfig.Settings{CI: []authnconfig.CIIssuer{{Provider: "circleci", IssuerURL: issuer, Audience: org,
		Rules: []string{`claims["oidc.circleci.com/project-id"] == "proj-1"`}}}}
	providers := map[string]authnconfig.Provider{issuer: "circleci"}
	data, _ := Encode(Build(s), authnconfig.V1)
	cfg, err := Check(data, authnconfig.Target{Providers: providers})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	token := func(project string) string {
		return testjwt.Unsigned(map[string]any{"iss": issuer, "aud": org, "sub": "org/" + org + "/project/" + project + "/user/u1",
			"oidc.circleci.com/project-id": project, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	}
	v, err := CheckToken(context.Background(), cfg, authnconfig.Target{}, token("proj-1"), now)
	if err != nil || !v.Accepted || v.Username != "ci:circleci:proj-1" || strings.Join(v.Groups, ",") != "ci:circleci" {
		t.Fatalf("the project's token: %+v, %v", v, err)
	}
	if v, err = CheckToken(context.Background(), cfg, authnconfig.Target{}, token("proj-2"), now); err != nil || v.Accepted {
		t.Fatalf("another project's token: %+v, %v", v, err)
	}
	s.CI[0].Rules = nil
	data, _ = Encode(Build(s), authnconfig.V1)
	if _, err := Check(data, authnconfig.Target{Providers: providers}); err == nil || !strings.Contains(err.Error(), "no claim rules") || !strings.Contains(err.Error(), "CircleCI") {
		t.Fatalf("no rule: %v", err)
	}
}
