package ci

import "context"

// GitLabProvider is GitLab CI's token service. Its claims are those of
// GitLab's "OpenID Connect (OIDC) ID token" reference; each instance is
// its own issuer.
var GitLabProvider = &Provider{
	Name:        "gitlab",
	Title:       "GitLab CI",
	Username:    `claims.project_path + ":" + claims.ref`,
	ExampleRule: `claims.project_path == "org/app" && claims.ref_protected == "true"`,
	NeedsRule:   true,
	Claims: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti",
		"namespace_id", "namespace_path", "project_id", "project_path", "user_id", "user_login", "user_email", "user_access_level",
		"user_identities", "pipeline_id", "pipeline_source", "job_id", "ref", "ref_type", "ref_path", "ref_protected",
		"groups_direct", "environment", "environment_protected", "deployment_tier", "environment_action", "runner_id",
		"runner_environment", "sha", "project_visibility", "ci_config_ref_uri", "ci_config_sha"},
}

// gitlab reads the variable a job's `id_tokens` entry names: GitLab sets
// it once, when the job starts, for the audience .gitlab-ci.yml gives.
type gitlab struct{}

func (gitlab) Name() string                      { return "gitlab" }
func (gitlab) Provider() *Provider               { return GitLabProvider }
func (gitlab) Present(s Settings, e Env) bool    { return s.Var != "" && e.Getenv(s.Var) != "" }
func (gitlab) Material(s Settings, e Env) string { return e.Getenv(s.Var) }
func (gitlab) Validate(s Settings) error         { return needVar("gitlab", s, "the job's id_tokens entry") }
func (gitlab) AudienceHint(s Settings) string {
	return "set `aud: " + s.Audience + "` for " + s.Var + " in the job's id_tokens"
}
func (gitlab) RenewHint(s Settings) string {
	return "GitLab sets " + s.Var + " once when the job starts; run kubectl earlier in the job, or split it into shorter jobs"
}

func (gitlab) Read(_ context.Context, s Settings, e Env) (string, string, error) {
	return readVar(s, e, "add it to the job's `id_tokens` ("+s.Var+": {aud: "+s.Audience+"}) in .gitlab-ci.yml, or fix --ci-token-var")
}
