package grant

import (
	"context"
	"fmt"

	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// Validate checks the grant's settings: its own rules, then what every
// grant with no person shares (a secret named in one place, never the
// keyring for short-lived tokens).
func (r *Request) Validate() error {
	if err := r.Grant.Validate(r); err != nil {
		return err
	}
	if r.Grant.Person() {
		return nil
	}
	if r.ClientSecretFile != "" && r.ClientSecretEnv != "" {
		return fmt.Errorf("--client-secret-file and --client-secret-env both given: name one place for the secret")
	}
	if c := r.TokenCache; c != "" && c != string(tokenstore.SelectFile) && c != string(tokenstore.SelectNone) && c != string(tokenstore.SelectAuto) {
		return fmt.Errorf("--token-cache %s: a CI grant's short-lived tokens are never kept in the keyring; use file (the default for CI grants) or none", c)
	}
	return nil
}

// person is what the grants a person runs share.
type person struct{}

func (person) Person() bool                               { return true }
func (person) Client() Client                             { return ClusterClient }
func (person) UsesCIToken() bool                          { return false }
func (person) KeyParts(*Request) []string                 { return nil }
func (person) SubjectAudience(r *Request) string          { return r.TokenAudience() }
func (person) Material(*Request, ci.Env) (string, string) { return "", "" }
func (person) Approve(*Request) string                    { return "" }

// validatePerson: a person's ID token is issued for the client ID.
func validatePerson(r *Request) error {
	if r.Audience != "" && r.Audience != r.ClientID {
		return fmt.Errorf("--audience %s is for CI grants: a person's ID token is issued for the client ID (%s)", r.Audience, r.ClientID)
	}
	return nil
}

// withCIToken is what the grants that read the CI job's own token share.
type withCIToken struct{}

func (withCIToken) Person() bool      { return false }
func (withCIToken) Client() Client    { return ClusterClient }
func (withCIToken) UsesCIToken() bool { return true }

// KeyParts name the source, so one source's token never serves another.
func (withCIToken) KeyParts(r *Request) []string {
	return []string{"source=" + r.CISource, "var=" + r.CITokenVar, "file=" + r.CITokenFile, "subject-aud=" + r.SubjectAudience()}
}

// SubjectAudience: a CI token traded at the cluster's issuer is for that
// issuer.
func (withCIToken) SubjectAudience(r *Request) string { return r.Issuer }

// CISourceDomain is the domain a CI token's fingerprint is hashed in.
const CISourceDomain = "securekapi-ci-source/v1"

func (withCIToken) Material(r *Request, env ci.Env) (string, string) {
	sys, ok := ci.Lookup(r.CISource)
	if !ok {
		return "", ""
	}
	return CISourceDomain, sys.Material(r.CISettings(), env)
}

// approveCI is the `use` that writes and approves a grant reading the CI
// token from r's source.
func approveCI(r *Request, flags string) string {
	return "--ci " + r.CISource + flags
}

// ValidateCISource checks that the source is known and complete.
func ValidateCISource(r *Request) error {
	if r.CISource == "" {
		return fmt.Errorf("--grant %s needs --ci-token-source: %s", r.Grant.Name(), ci.SourceList())
	}
	sys, err := ci.Get("--ci-token-source", r.CISource)
	if err != nil {
		return err
	}
	return sys.Validate(r.CISettings())
}

// ciTokenAndSecret are what a grant trading the CI token at the cluster's
// issuer sends: the token, and the client's secret when the settings name
// one (a confidential client), else "".
func ciTokenAndSecret(ctx context.Context, r *Request, d Deps) (*Issued, string, error) {
	t, err := d.CIToken(ctx)
	if err != nil || (r.ClientSecretFile == "" && r.ClientSecretEnv == "") {
		return t, "", err
	}
	secret, err := d.ClientSecret()
	return t, secret, err
}

// noSecret refuses a client secret for a grant that sends none.
func noSecret(r *Request, instead string) error {
	if r.ClientSecretFile != "" || r.ClientSecretEnv != "" {
		return fmt.Errorf("--grant %s sends the CI token itself and no client secret; drop --client-secret-*, or use %s", r.Grant.Name(), instead)
	}
	return nil
}
