package ci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// GitHub Actions' variables for requesting the job's OIDC token; a job
// has them when its workflow grants `permissions: id-token: write`.
const (
	GitHubRequestURLVar   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	GitHubRequestTokenVar = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// GitHubProvider is GitHub Actions' token service. Its claims are those of
// GitHub's "OpenID Connect reference".
var GitHubProvider = &Provider{
	Name:        "github",
	Title:       "GitHub Actions",
	Issuer:      "https://token.actions.githubusercontent.com",
	Username:    `claims.repository + ":" + claims.ref`,
	ExampleRule: `claims.repository == "org/app" && claims.ref == "refs/heads/main"`,
	NeedsRule:   true,
	Claims: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti",
		"actor", "actor_id", "base_ref", "check_run_id", "enterprise", "enterprise_id", "environment", "event_name", "head_ref",
		"job_workflow_ref", "job_workflow_sha", "ref", "ref_protected", "ref_type", "repository", "repository_id",
		"repository_owner", "repository_owner_id", "repository_visibility", "run_attempt", "run_id", "run_number",
		"runner_environment", "sha", "workflow", "workflow_ref", "workflow_sha"},
}

// github asks the job's token service for a token: it mints a new one per
// request, for the audience asked.
type github struct{}

func (github) Name() string        { return "github" }
func (github) Provider() *Provider { return GitHubProvider }

func (github) Present(_ Settings, e Env) bool {
	return e.Getenv(GitHubRequestURLVar) != "" && e.Getenv(GitHubRequestTokenVar) != ""
}

// Material is the job's request token: a new job, a new one.
func (github) Material(_ Settings, e Env) string { return e.Getenv(GitHubRequestTokenVar) }

func (github) Validate(Settings) error { return nil }

// Read asks the job's token service for a token for s.Audience: GET
// $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with the job's request token
// as a bearer token (GitHub's documented API, which @actions/core
// getIDToken uses). The URL already carries a query.
func (github) Read(ctx context.Context, s Settings, e Env) (string, string, error) {
	const where = "GitHub Actions' token service"
	reqURL, reqToken := e.Getenv(GitHubRequestURLVar), e.Getenv(GitHubRequestTokenVar)
	if reqURL == "" || reqToken == "" {
		missing := GitHubRequestURLVar
		if reqURL != "" {
			missing = GitHubRequestTokenVar
		}
		return "", where, fmt.Errorf("%s is not set: this is not a GitHub Actions job, or its workflow lacks `permissions: id-token: write`", missing)
	}
	u, err := url.Parse(reqURL)
	if err != nil || u.Scheme != "https" {
		return "", where, fmt.Errorf("%s is not an https URL", GitHubRequestURLVar)
	}
	if s.Audience != "" {
		q := u.Query()
		q.Set("audience", s.Audience)
		u.RawQuery = q.Encode()
	}
	status, body, err := e.Get(ctx, u.String(), reqToken)
	if err != nil {
		return "", where, fmt.Errorf("request the job's OIDC token from %s: %v", u.Host, err)
	}
	if status != 200 {
		// The body is not quoted: a token service's error page may echo the request.
		return "", where, fmt.Errorf("GitHub's token service answered %d to the request for audience %s; is `permissions: id-token: write` set for this job, and is %s current?", status, s.Audience, GitHubRequestTokenVar)
	}
	var out struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(body, &out) != nil || out.Value == "" {
		return "", where, errors.New("GitHub's token service answered without a token (want JSON with a value)")
	}
	return out.Value, where, nil
}

func (github) RenewHint(Settings) string {
	return "GitHub minted an expired token; check this runner's clock"
}

func (github) AudienceHint(Settings) string {
	return "fix --ci-token-audience (or --audience)"
}
