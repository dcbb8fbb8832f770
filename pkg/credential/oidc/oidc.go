// Package oidc runs the OpenID Connect flows securekapi logs users in with:
// authorization code with PKCE through a loopback callback (int128/oauth2cli),
// the device authorization grant (RFC 8628), refresh, and revocation. ID
// tokens are verified against the issuer's keys with coreos/go-oidc.
//
// It knows nothing about where tokens are kept; package credential does.
package oidc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/userfile"
)

// Settings name an OIDC client: who issues tokens and for which client.
type Settings struct {
	Issuer      string
	ClientID    string
	Scopes      []string          // "openid" is always requested
	ExtraParams map[string]string // added to the authorization request
	CAFile      string            // PEM bundle for a privately-issued issuer; empty => system roots
	// CAData is CAFile's bundle as the approval's issuer trust hashed it
	// (access.Flags.IssuerCAData); when set it is trusted, and CAFile is
	// not read again (between two reads, the file could change).
	CAData []byte
}

// Tokens is what a flow yields.
type Tokens struct {
	IDToken      string
	RefreshToken string
	Claims       token.Claims
}

// Provider is a discovered issuer, ready to run flows.
type Provider struct {
	settings   Settings
	client     *http.Client
	provider   *gooidc.Provider
	revocation string
	// offline is whether the issuer advertises the offline_access scope.
	offline bool
	// scopes are the scopes_supported it advertises, if any.
	scopes []string
	// now is the clock ID tokens are verified against; nil is the system's.
	now func() time.Time
}

// DefaultTimeout bounds every request to the provider.
const DefaultTimeout = 15 * time.Second

// HTTPClient builds a client for the issuer, trusting s.CAFile when set.
func HTTPClient(s Settings) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if s.CAFile != "" {
		// The same reader the approval's issuer trust hashed with: a plain
		// file only the user or root can change, so these are those bytes.
		pem := s.CAData
		if pem == nil {
			var err error
			if pem, err = userfile.ReadTrustFile(s.CAFile); err != nil {
				return nil, fmt.Errorf("read OIDC CA file: %w", err)
			}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("OIDC CA file %s holds no PEM certificates", s.CAFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: transport, Timeout: DefaultTimeout}, nil
}

// Discover reads the issuer's discovery document. client may be nil.
func Discover(ctx context.Context, s Settings, client *http.Client) (*Provider, error) {
	if s.Issuer == "" || s.ClientID == "" {
		return nil, errors.New("OIDC issuer and client ID are required (--oidc-issuer-url, --oidc-client-id)")
	}
	if err := CheckExtraParams(s.ExtraParams); err != nil {
		return nil, err
	}
	if client == nil {
		var err error
		if client, err = HTTPClient(s); err != nil {
			return nil, err
		}
	}
	ctx = gooidc.ClientContext(ctx, client)
	p, err := gooidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery at %s: %w (is the issuer up and reachable, and trusted? see --oidc-ca-file)", s.Issuer, err)
	}
	var extra struct {
		Revocation      string   `json:"revocation_endpoint"`
		ScopesSupported []string `json:"scopes_supported"`
	}
	_ = p.Claims(&extra) // an absent endpoint is fine: logout then only forgets
	return &Provider{settings: s, client: client, provider: p, revocation: extra.Revocation,
		offline: slices.Contains(extra.ScopesSupported, OfflineAccess), scopes: extra.ScopesSupported}, nil
}

// Issuer is an OIDC provider as securekapi uses it: the refresh, the two
// login flows, revocation, the CI grants, and what the provider offers. *Provider, from
// Discover, is the real one; tests of the credential manager and the
// commands use fakes, so refresh, rotation and refusal need no network.
type Issuer interface {
	// Refresh redeems a refresh token; a *RefreshError means the provider
	// refused it (revoked, expired), any other error that it was not asked.
	Refresh(ctx context.Context, refreshToken string) (*Tokens, error)
	BrowserLogin(ctx context.Context, o BrowserOptions) (*Tokens, error)
	DeviceLogin(ctx context.Context, show func(DeviceAuthorization)) (*Tokens, error)
	// Revoke reports false when the provider offers no revocation.
	Revoke(ctx context.Context, refreshToken string) (bool, error)
	HasDeviceFlow() bool
	ScopesSupported() []string
	// The CI grants: an extension grant's form (token exchange, JWT
	// bearer) and client credentials.
	TokenRequest(ctx context.Context, r grant.TokenRequest) (*Tokens, error)
	ClientCredentials(ctx context.Context, secret, audience string) (*Tokens, error)
}

var _ Issuer = (*Provider)(nil)

// SetClock makes ID token verification read now instead of the system
// clock (go-oidc checks expiry and issued-at against it).
func (p *Provider) SetClock(now func() time.Time) { p.now = now }

// ScopesSupported are the scopes the issuer's discovery document lists
// (scopes_supported, optional in OIDC Discovery), or nil.
func (p *Provider) ScopesSupported() []string { return slices.Clone(p.scopes) }

// HasDeviceFlow reports whether the issuer advertises RFC 8628.
func (p *Provider) HasDeviceFlow() bool { return p.provider.Endpoint().DeviceAuthURL != "" }

func (p *Provider) oauth2Config() oauth2.Config {
	return oauth2.Config{
		ClientID: p.settings.ClientID,
		Endpoint: p.provider.Endpoint(),
		Scopes:   p.RequestScopes(),
	}
}

// OfflineAccess is the scope that asks for a refresh token (OIDC Core 11).
const OfflineAccess = "offline_access"

// RequestScopes are the scopes a login asks for: the configured ones, plus
// offline_access when the issuer advertises it, since without a refresh
// token every expiry means another browser login. Issuers that do not list
// it (Google, for one, rejects it) are not sent it. The cache key uses the
// configured scopes only, so it is known without a network round trip.
func (p *Provider) RequestScopes() []string {
	if p.offline {
		return Scopes(append(slices.Clone(p.settings.Scopes), OfflineAccess))
	}
	return Scopes(p.settings.Scopes)
}

// Scopes returns the requested scopes: openid first, then the rest sorted
// and de-duplicated.
func Scopes(extra []string) []string {
	return token.Scopes(extra)
}

func (p *Provider) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, p.client)
}

// reservedParams are the authorization request parameters securekapi sets
// itself. An extra parameter of the same name would override them (x/oauth2
// sets options after its own values): redirect_uri or response_mode could
// send the code elsewhere, response_type could ask for a token in the
// fragment, and request/request_uri carry a request object whose values
// supersede every one of ours (OIDC Core 6.1). prompt, login_hint,
// audience, access_type and the like stay allowed: issuers need them.
var reservedParams = []string{
	"client_id", "client_secret", "redirect_uri", "response_type", "response_mode",
	"scope", "state", "nonce", "code_verifier", "request", "request_uri",
}

// CheckExtraParams refuses extra authorization request parameters that
// would override the ones securekapi sets (see reservedParams, and every
// code_challenge* name, which carry PKCE).
func CheckExtraParams(params map[string]string) error {
	var bad []string
	for name := range params {
		n := strings.ToLower(strings.TrimSpace(name))
		if n == "" {
			return errors.New("an extra authorization parameter has an empty name; write it as name=value")
		}
		if err := safetext.Check(name, safetext.MaxToken); err != nil {
			return fmt.Errorf("extra authorization parameter name: %w", err)
		}
		if err := safetext.Check(params[name], safetext.MaxValue); err != nil {
			return fmt.Errorf("extra authorization parameter %s: %w", safetext.Quote(name), err)
		}
		if slices.Contains(reservedParams, n) || strings.HasPrefix(n, "code_challenge") {
			bad = append(bad, strconv.Quote(name))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("extra authorization parameter %s is reserved: securekapi sets it itself (reserved: %s, code_challenge*); remove it from the cluster's settings or --oidc-auth-request-extra-params",
		strings.Join(bad, ", "), strings.Join(reservedParams, ", "))
}

func (p *Provider) extraOptions() []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	for k, v := range p.settings.ExtraParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return opts
}

// Verify checks an ID token's signature, issuer, audience and expiry
// against the issuer's published keys.
func (p *Provider) Verify(ctx context.Context, rawIDToken string) (*token.Claims, error) {
	c, err := p.VerifyFor(ctx, rawIDToken, p.settings.ClientID)
	if err != nil {
		return nil, fmt.Errorf("ID token: %w", err)
	}
	return c, nil
}

// tokensFrom verifies the ID token in an OAuth2 token response.
func (p *Provider) tokensFrom(ctx context.Context, t *oauth2.Token) (*Tokens, error) {
	raw, _ := t.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the provider returned no id_token; is the openid scope allowed for this client?")
	}
	claims, err := p.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	return &Tokens{IDToken: raw, RefreshToken: t.RefreshToken, Claims: *claims}, nil
}

// Refresh redeems a refresh token. The provider may rotate it: the caller
// must store the returned one and must serialize refreshes.
func (p *Provider) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	cfg := p.oauth2Config()
	t, err := cfg.TokenSource(p.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return nil, &RefreshError{Err: redactRetrieveError(err, refreshToken)}
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken // RFC 6749 6: the old one stays valid
	}
	return p.tokensFrom(ctx, t)
}

// RefreshError means the refresh token was refused or could not be used;
// the user must log in again.
type RefreshError struct{ Err error }

func (e *RefreshError) Error() string { return "refresh: " + e.Err.Error() }
func (e *RefreshError) Unwrap() error { return e.Err }

// redactRetrieveError keeps the provider's error code and description but
// drops the raw response body, which can echo tokens back. The code and
// description are the provider's own text and can quote a secret the
// request sent: such quotes are redacted.
func redactRetrieveError(err error, sent ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		// The provider's own text reaches a terminal: escaped, after the
		// redaction has seen it as sent.
		msg = safetext.Escape(redact.Redact(msg, sent...))
		if msg == "" && re.Response != nil {
			msg = re.Response.Status
		}
		return errors.New("the provider refused: " + msg)
	}
	return err
}

// Revoke asks the provider to revoke a refresh token (RFC 7009). It
// returns false without error when the provider advertises no endpoint.
func (p *Provider) Revoke(ctx context.Context, refreshToken string) (bool, error) {
	if p.revocation == "" || refreshToken == "" {
		return false, nil
	}
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {p.settings.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("revoke at %s: %w", p.revocation, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("revoke at %s: %s", p.revocation, resp.Status)
	}
	return true, nil
}
