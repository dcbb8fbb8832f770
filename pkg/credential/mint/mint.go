// Package mint obtains a cluster's token with no person at the keyboard,
// for CI jobs: the full CLI's side of packages grant and ci. It runs the
// grant the exec args name (package grant, one file per grant) with what
// only the full CLI links: the CI job's own OIDC token fetched and checked
// (citoken.go; package ci says where each CI system keeps it), the client
// secret read, and the cluster's issuer discovered and asked (package
// oidc). credential.Manager calls Mint under the key's lock and caches the
// result; the token binding and approvals apply unchanged, since Manager
// checks them before it calls Mint.
//
// Secrets (a client secret) come from a file or a named variable, never
// from args or kubeconfig; every token and secret read here is remembered
// in Secrets, so no message the process prints can quote it.
package mint

import (
	"context"
	"net/http"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
)

// Minter mints tokens for the machine grant the flags name; it is the
// grants' grant.Deps.
type Minter struct {
	Flags    *access.Flags
	Settings oidc.Settings
	Getenv   func(string) string
	Now      func() time.Time
	// Discover returns the cluster's issuer (token exchange, client
	// credentials); the ci-token grant needs none.
	Discover func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	// CIClient asks the CI's token service (GitHub); nil is a default.
	CIClient *http.Client
	ReadFile func(string) ([]byte, error) // default userfile.ReadPlainFile
	Secrets  *redact.Secrets
}

var _ grant.Deps = (*Minter)(nil)

// Mint returns a fresh token for the cluster.
func (m *Minter) Mint(ctx context.Context) (*oidc.Tokens, error) {
	r := m.Flags.Request()
	if r.Grant == nil {
		_, err := grant.Get(m.Flags.Grant)
		return nil, err
	}
	t, err := r.Grant.Obtain(ctx, r, m)
	if err != nil {
		return nil, err
	}
	return &oidc.Tokens{IDToken: t.Raw, Claims: t.Claims}, nil
}

// CIToken fetches the CI token, and remembers it so that nothing printed
// quotes it.
func (m *Minter) CIToken(ctx context.Context) (*grant.Issued, error) {
	f := FromRequest(m.Flags.Request(), m.Getenv, m.Now, m.Flags.ExpiryMargin)
	f.HTTPClient, f.ReadFile = m.CIClient, m.ReadFile
	t, err := f.Fetch(ctx)
	if t != nil {
		m.Secrets.Add(t.Raw)
	}
	return t, err
}

// ClientSecret reads the client secret from where the flags name
// (grant.Machine.ReadClientSecret), and remembers it so that nothing
// printed quotes it.
func (m *Minter) ClientSecret() (string, error) { return m.secret() }

func (m *Minter) secret() (string, error) {
	s, _, err := m.Flags.ReadClientSecret(ci.Env{Getenv: m.Getenv, ReadFile: m.ReadFile})
	if err != nil {
		return "", err
	}
	m.Secrets.Add(s)
	return s, nil
}

// ClientCredentials asks the cluster's issuer for the client's own token.
func (m *Minter) ClientCredentials(ctx context.Context, secret, audience string) (*grant.Issued, error) {
	p, err := m.Discover(ctx, m.Settings)
	if err != nil {
		return nil, err
	}
	return issued(p.ClientCredentials(ctx, secret, audience))
}

// TokenRequest posts the grant's form to the cluster's issuer.
func (m *Minter) TokenRequest(ctx context.Context, r grant.TokenRequest) (*grant.Issued, error) {
	p, err := m.Discover(ctx, m.Settings)
	if err != nil {
		return nil, err
	}
	return issued(p.TokenRequest(ctx, r))
}

func issued(t *oidc.Tokens, err error) (*grant.Issued, error) {
	if err != nil {
		return nil, err
	}
	return &grant.Issued{Raw: t.IDToken, Claims: t.Claims}, nil
}
