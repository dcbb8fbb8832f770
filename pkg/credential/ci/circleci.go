package ci

import "context"

// CircleCI puts the job's OIDC token in variables, no request needed:
// CIRCLE_OIDC_TOKEN and CIRCLE_OIDC_TOKEN_V2 (whose sub adds the VCS
// origin and ref). Its aud is the organization's ID, and each organization
// is its own issuer, https://oidc.circleci.com/org/ORG_ID (CircleCI's
// "Using OpenID Connect tokens in jobs"). --ci-token-var picks the
// variable; CIRCLE_OIDC_TOKEN_V2 by default.
const (
	CircleCITokenVar = "CIRCLE_OIDC_TOKEN_V2"
	circleCIPrefix   = "oidc.circleci.com/"
)

// CircleCIProvider is CircleCI's token service, as documented: the
// standard claims and its own under oidc.circleci.com/.
var CircleCIProvider = &Provider{
	Name:        "circleci",
	Title:       "CircleCI",
	Username:    `claims["` + circleCIPrefix + `project-id"]`,
	ExampleRule: `claims["` + circleCIPrefix + `project-id"] == "PROJECT_ID"`,
	// Every project of the organization gets a token with its ID as aud.
	NeedsRule: true,
	Claims: []string{"iss", "sub", "aud", "exp", "iat",
		circleCIPrefix + "project-id", circleCIPrefix + "context-ids", circleCIPrefix + "vcs-origin",
		circleCIPrefix + "vcs-ref", circleCIPrefix + "ssh-rerun"},
}

type circleci struct{}

func (circleci) Name() string                      { return "circleci" }
func (circleci) Provider() *Provider               { return CircleCIProvider }
func (circleci) Validate(Settings) error           { return nil }
func (circleci) Present(s Settings, e Env) bool    { return e.Getenv(circleCIVar(s)) != "" }
func (circleci) Material(s Settings, e Env) string { return e.Getenv(circleCIVar(s)) }

func (circleci) Read(_ context.Context, s Settings, e Env) (string, string, error) {
	s.Var = circleCIVar(s)
	return readVar(s, e, "CircleCI sets it in every job of a project that may use OIDC; or fix --ci-token-var")
}

func (circleci) RenewHint(s Settings) string {
	return "CircleCI sets " + circleCIVar(s) + " when the job starts, valid for an hour; run kubectl earlier in the job, or split it"
}

func (circleci) AudienceHint(Settings) string {
	return "CircleCI's token is for the organization's ID: make that the cluster's audience (--audience, the profile's CI audience)"
}

func circleCIVar(s Settings) string {
	if s.Var != "" {
		return s.Var
	}
	return CircleCITokenVar
}
