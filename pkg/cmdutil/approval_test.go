package cmdutil

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/credential/loginui"
	"github.com/securekapi/securekapi/pkg/profile"
)

const testPin = "sha256:7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c"

func fleet(t *testing.T) []loginui.Candidate {
	t.Helper()
	var out []loginui.Candidate
	for _, c := range []profile.Cluster{
		{Name: "a", Server: "https://a.example.test", OIDC: profile.OIDC{IssuerURL: "https://dex.example.test", ClientID: "kubectl"}},
		{Name: "b", Server: "https://b.example.test:6443", OIDC: profile.OIDC{IssuerURL: "https://dex.example.test", ClientID: "kubectl"}},
	} {
		cand, err := CandidateFor(&c, []string{testPin})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cand)
	}
	return out
}
