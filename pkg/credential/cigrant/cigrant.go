// Package cigrant mints a cluster's token with no person at the keyboard,
// for CI jobs: the CI's own OIDC token used directly (ci-token), that token
// exchanged at the cluster's issuer (RFC 8693, token-exchange), or a
// confidential client's own token (RFC 6749 section 4.4,
// client-credentials). credential.Manager calls Mint under the key's lock
// and caches the result; the token binding and approvals apply unchanged,
// since Manager checks them before it calls Mint.
//
// Secrets (a client secret) come from a file or a named variable, never
// from args or kubeconfig; every token and secret read here is remembered
// in Secrets, so no message the process prints can quote it.
package cigrant

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/citoken"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
)

// Minter mints tokens for the machine grant the flags name.
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
	ReadFile func(string) ([]byte, error) // default os.ReadFile
	Secrets  *redact.Secrets
}

// Mint returns a fresh token for the cluster.
func (m *Minter) Mint(ctx context.Context) (*oidc.Tokens, error) {
	switch m.Flags.Grant {
	case access.GrantCIToken:
		return m.ciToken(ctx)
	case access.GrantTokenExchange:
		return m.exchange(ctx)
	case access.GrantClientCredentials:
		return m.clientCredentials(ctx)
	}
	return nil, fmt.Errorf("--grant %s needs a person; it is not a CI grant", m.Flags.Grant)
}

// ciToken hands over the CI's own token: the API server trusts the CI
// issuer itself, so the issuer and audience the exec args name must be the
// token's.
func (m *Minter) ciToken(ctx context.Context) (*oidc.Tokens, error) {
	t, err := m.fetch(ctx)
	if err != nil {
		return nil, err
	}
	if t.Claims.Issuer != m.Flags.Issuer {
		return nil, fmt.Errorf("the CI token was issued by %s, but the cluster's --oidc-issuer-url is %s: with --grant ci-token the API server must trust the CI issuer itself; fix --oidc-issuer-url, or use --grant token-exchange at the cluster's issuer", t.Claims.Issuer, m.Flags.Issuer)
	}
	return &oidc.Tokens{IDToken: t.Raw, Claims: t.Claims}, nil
}

func (m *Minter) exchange(ctx context.Context) (*oidc.Tokens, error) {
	subject, err := m.fetch(ctx)
	if err != nil {
		return nil, err
	}
	secret := ""
	if m.Flags.ClientSecretFile != "" || m.Flags.ClientSecretEnv != "" {
		if secret, err = m.secret(); err != nil {
			return nil, err
		}
	}
	p, err := m.Discover(ctx, m.Settings)
	if err != nil {
		return nil, err
	}
	return p.Exchange(ctx, oidc.ExchangeRequest{SubjectToken: subject.Raw, Audience: m.Flags.TokenAudience(),
		ConnectorID: m.Flags.ExchangeConnectorID, ClientSecret: secret})
}

func (m *Minter) clientCredentials(ctx context.Context) (*oidc.Tokens, error) {
	secret, err := m.secret()
	if err != nil {
		return nil, err
	}
	p, err := m.Discover(ctx, m.Settings)
	if err != nil {
		return nil, err
	}
	return p.ClientCredentials(ctx, secret, m.Flags.TokenAudience())
}

// fetch reads the CI token, and remembers it so that nothing printed
// quotes it.
func (m *Minter) fetch(ctx context.Context) (*citoken.Token, error) {
	f := citoken.FromFlags(m.Flags, m.Getenv, m.Now, m.CIClient)
	f.ReadFile = m.ReadFile
	t, err := f.Fetch(ctx)
	if t != nil {
		m.Secrets.Add(t.Raw)
	}
	return t, err
}

// secret reads the client secret from where the flags name
// (access.Machine.ReadClientSecret), and remembers it so that nothing
// printed quotes it.
func (m *Minter) secret() (string, error) {
	read := m.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	s, _, err := m.Flags.ReadClientSecret(m.Getenv, read)
	if err != nil {
		return "", err
	}
	m.Secrets.Add(s)
	return s, nil
}
