// Package ci is the one list of the CI systems securekapi knows [light]:
// one file each (github.go, gitlab.go, generic.go for a file or variable
// any platform fills), and the registry (registry.go), one line per
// system. A System says whether a job runs there (Present), what
// fingerprints the job (Material), how its settings are checked
// (Validate), how its own OIDC token is read (Read), and through its
// Provider how the API server trusts its issuer: the default issuer, the
// claims it documents, the username a token maps to and the claim rule it
// needs. `use --ci`, the access profile, `expose authn-config` and the
// credential path all read it from here.
//
// The small exec program links it (through pkg/credential/access), so it
// links the standard library only and never dials: a system that asks a
// token service over HTTP does it through Env.Get, which the full CLI
// implements with net/http (pkg/credential/mint).
package ci

import (
	"context"
	"strings"
)

// Settings are a CI token source's settings, as the exec args name them.
// They name variables and files, never a token.
type Settings struct {
	// Var is --ci-token-var: the variable that holds the token (the
	// GitLab job's id_tokens name, the env source's variable).
	Var string
	// File is --ci-token-file: the file source's path.
	File string
	// Audience is the audience asked of the token service, and checked in
	// a token from the other sources ("" checks none).
	Audience string
}

// Env is what reading a CI token may use; every side effect is a field.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	// Get asks a CI's token service: GET url with the bearer token, and
	// the answer's status and body (at most 1 MiB). Its error never quotes
	// the bearer token. The full CLI implements it with net/http.
	Get func(ctx context.Context, url, bearer string) (status int, body []byte, err error)
}

// System is one CI system: where a job's own OIDC token comes from, and
// the provider whose issuer the API server trusts for it.
type System interface {
	// Name is the value of --ci and --ci-token-source.
	Name() string
	// Provider is how the API server trusts the system's issuer.
	Provider() *Provider
	// Present reports whether this job has the source's token (or the
	// means to ask for it): `--grant auto` turns to the CI grant then.
	Present(s Settings, env Env) bool
	// Material is what identifies this job's token, or "" when missing:
	// a token cached for one job is handed out only while it is the same,
	// and only as a hash (access.Flags.Source).
	Material(s Settings, env Env) string
	// Validate checks that the settings name what the source needs.
	Validate(s Settings) error
	// Read returns the raw token and, for messages, where it came from.
	// Its errors name the variable, file or setting to fix, never a token.
	Read(ctx context.Context, s Settings, env Env) (raw, where string, err error)
	// RenewHint says what to do about an expired token; AudienceHint, about
	// a token for another audience.
	RenewHint(s Settings) string
	AudienceHint(s Settings) string
}

// Provider is a CI token service as the API server trusts it: what an
// access profile and `expose authn-config` name with --ci.
type Provider struct {
	// Name is the --ci value of the profile and authn-config: github,
	// gitlab, oidc (any other issuer).
	Name string
	// Title names it in messages.
	Title string
	// Issuer is the issuer every job's token carries, "" when each
	// instance or organization has its own (then --ci NAME=URL names it).
	Issuer string
	// Username is the CEL expression a token's username is mapped from,
	// after its literal "ci:NAME:" prefix; "" maps the issuer's host and
	// the subject.
	Username string
	// ExampleRule is a claim rule to show when one is missing.
	ExampleRule string
	// Claims are the claims the provider documents for its job tokens; nil
	// when unknown (any issuer).
	Claims []string
	// NeedsRule: any project on the service can ask for a token with any
	// audience, so the audience alone would let in anyone's pipeline.
	NeedsRule bool
}

// Generic is the provider of any other OIDC issuer, such as a Kubernetes
// cluster's service-account issuer for in-cluster CI: the file and env
// sources' provider.
var Generic = &Provider{Name: "oidc", Title: "OIDC issuer"}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
