// Package grant holds the ways a cluster's token is obtained [light]: one
// file per grant (a person's auth-code and device-code, and auto, which
// picks; with no person, ci-token, token-exchange, client-credentials and
// jwt-bearer), and the registry (registry.go), one line per grant. A
// Grant says whether it needs a person, what it adds to the cache key,
// how its settings are checked, what fingerprints the job it runs in,
// which `use` approves it, and how it obtains a token. --grant's values,
// access.Flags' Validate and Key, the approve hints and
// credential.Manager's mint all come from here, not from switches.
//
// The small exec program links it (through pkg/credential/access) for the
// rules; obtaining a token goes through Deps, which only the full CLI
// implements (pkg/credential/mint, with net/http and the OIDC library),
// so this package links the standard library and the light credential
// packages only.
package grant

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/userfile"
)

// Grant is one way of obtaining a cluster's token.
type Grant interface {
	// Name is the value of --grant (and `use --ci-grant`).
	Name() string
	// Help says what it is in a few words, for --grant's help.
	Help() string
	// Person reports whether a person logs in (a browser or the device
	// flow); the other grants run in CI jobs with no one at the keyboard.
	Person() bool
	// Client is the OIDC client the grant asks as, which `use --ci` writes.
	Client() Client
	// UsesCIToken reports whether the grant reads the CI job's own OIDC token
	// (--ci-token-source).
	UsesCIToken() bool
	// KeyParts are what the cache key adds for the grant after its name
	// and audience, so that its tokens never serve another source or
	// grant; nil for a person's grant, whose key is the client's alone.
	KeyParts(r *Request) []string
	// Validate checks the grant's own settings; Request.Validate runs it
	// with the checks every grant shares.
	Validate(r *Request) error
	// SubjectAudience is the audience to ask the CI for, when
	// --ci-token-audience does not say.
	SubjectAudience(r *Request) string
	// Material is what fingerprints this job's material for the grant (its
	// CI token, its client secret) and the domain that hash is taken in;
	// "" for none.
	Material(r *Request, env ci.Env) (domain, material string)
	// Approve is the `use` flags that write and approve the grant's stanza
	// ("" for a person's grant, which `login` approves).
	Approve(r *Request) string
	// Obtain gets a fresh token with no person; a person's grant has none
	// to give (the full CLI's login UI runs those).
	Obtain(ctx context.Context, r *Request, d Deps) (*Issued, error)
}

// Client is which OIDC client a grant asks as.
type Client int

const (
	// ClusterClient is the cluster's own client at its issuer.
	ClusterClient Client = iota
	// CIIssuerClient: the CI issuer's token itself, whose audience is the
	// client (ci-token).
	CIIssuerClient
	// OwnClient is a confidential client of its own (--ci-client-id).
	OwnClient
)

// Machine are the settings of the grants that need no person (CI jobs):
// where the CI's own OIDC token comes from, what audience the cluster
// expects, and where a confidential client's secret is. They name files and
// variables, never a token or secret themselves: exec args and kubeconfig
// are readable by anyone who can read the file, and land in logs. A new
// grant option is a field here and a row in access's exec-arg table.
type Machine struct {
	// Audience is the aud the cluster's API server expects in the token;
	// default the client ID (an ID token's audience).
	Audience string
	// CISource is where the CI's OIDC token comes from: a ci system's name.
	CISource string
	// CITokenVar is the variable holding the token: the name of the job's
	// GitLab `id_tokens` entry, or the variable of the env source.
	CITokenVar string
	// CITokenFile is the file of the file source (a projected
	// service-account token, for one); it is read afresh each time.
	CITokenFile string
	// CITokenAudience is the audience asked of GitHub for the CI token
	// (and checked in a token from the other sources when set). Default:
	// the grant's SubjectAudience.
	CITokenAudience string
	// ExchangeConnectorID is Dex's connector_id, which its token exchange
	// requires (it is not in RFC 8693).
	ExchangeConnectorID string
	// ClientSecretFile and ClientSecretEnv name where a confidential
	// client's secret is read from.
	ClientSecretFile string
	ClientSecretEnv  string
}

// Request is a cluster's login as the grants read it: the OIDC client the
// exec args name, the token store choice, and the grant's settings.
type Request struct {
	Grant    Grant
	Cluster  string
	Issuer   string
	ClientID string
	// TokenCache is --token-cache as given.
	TokenCache string
	Machine
}

// TokenAudience is the audience the cluster expects in the token.
func (r *Request) TokenAudience() string {
	if r.Audience != "" {
		return r.Audience
	}
	return r.ClientID
}

// SubjectAudience is the audience to ask the CI for: --ci-token-audience,
// else the grant's own choice.
func (r *Request) SubjectAudience() string {
	if r.CITokenAudience != "" {
		return r.CITokenAudience
	}
	return r.Grant.SubjectAudience(r)
}

// CISettings are the CI token source's settings.
func (r *Request) CISettings() ci.Settings {
	return ci.Settings{Var: r.CITokenVar, File: r.CITokenFile, Audience: r.SubjectAudience()}
}

// KeyGrant is the key's grant part: "" for a person's login, else the
// grant, its audience, its own parts and where a client secret is read
// from. The key is what an approval names, so a stanza that keeps an
// approved grant but points --client-secret-file or --client-secret-env at
// another file or variable (a key, another service's secret) is a new
// approval, not a way to post that secret to the issuer. A stanza that
// names no secret keeps the key older versions wrote.
func (r *Request) KeyGrant() string {
	if r.Grant.Person() {
		return ""
	}
	parts := append([]string{r.Grant.Name(), "aud=" + r.TokenAudience()}, r.Grant.KeyParts(r)...)
	if r.ClientSecretFile != "" {
		parts = append(parts, "secret-file="+r.ClientSecretFile)
	}
	if r.ClientSecretEnv != "" {
		parts = append(parts, "secret-env="+r.ClientSecretEnv)
	}
	return strings.Join(parts, " ")
}

// Issued is a token a grant obtained, with its claims.
type Issued struct {
	Raw    string
	Claims token.Claims
}

// Deps are what obtaining a token with no person uses. The full CLI
// implements them with net/http and the OIDC library (package mint);
// every token and secret they read is remembered so nothing printed
// quotes it.
type Deps interface {
	// CIToken is the CI job's own token for r.SubjectAudience(), checked
	// for expiry and audience.
	CIToken(ctx context.Context) (*Issued, error)
	// ClientSecret reads the client secret the settings name.
	ClientSecret() (string, error)
	// ClientCredentials runs RFC 6749 section 4.4 at the cluster's issuer.
	ClientCredentials(ctx context.Context, secret, audience string) (*Issued, error)
	// TokenRequest posts an extension grant (RFC 6749 section 4.5) to the
	// cluster's issuer's token endpoint as the client, and returns the
	// token issued, verified for its audience.
	TokenRequest(ctx context.Context, t TokenRequest) (*Issued, error)
}

// TokenRequest is an extension grant's request to the token endpoint.
type TokenRequest struct {
	// What names the grant in messages ("token exchange").
	What string
	// Params are the form's parameters, grant_type included.
	Params url.Values
	// ClientSecret authenticates a confidential client; "" for a public one.
	ClientSecret string
	// Audience is the aud the issued token must carry.
	Audience string
	// Secrets are the values no error may quote (the assertion, the secret).
	Secrets []string
	// Hint ends a refusal: what to check.
	Hint string
}

// errNoPerson is Obtain of a person's grant.
func errNoPerson(g Grant) error {
	return fmt.Errorf("--grant %s needs a person; it is not a CI grant", g.Name())
}

func readFile(env ci.Env) func(string) ([]byte, error) {
	if env.ReadFile != nil {
		return env.ReadFile
	}
	// A stanza names the file: a FIFO or /dev/zero must not stall or
	// exhaust the call (ReadPlainFile refuses both).
	return userfile.ReadPlainFile
}
