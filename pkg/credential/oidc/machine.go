package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/token"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ClientCredentials runs RFC 6749 section 4.4 for a confidential client:
// the client's own identity, with no person and no refresh token. The
// issuer must issue the access token as a JWT for audience (hydra with
// `strategies.access_token: jwt`, for one), since that is what the API
// server verifies; it is verified here the same way, against the issuer's
// published keys, so a misconfigured issuer fails here and not at kubectl.
func (p *Provider) ClientCredentials(ctx context.Context, secret, audience string) (*Tokens, error) {
	cfg := clientcredentials.Config{
		ClientID:     p.settings.ClientID,
		ClientSecret: secret,
		TokenURL:     p.provider.Endpoint().TokenURL,
		Scopes:       nonOpenIDScopes(p.settings.Scopes),
		AuthStyle:    oauth2.AuthStyleInHeader, // client_secret_basic, every issuer's default
	}
	if audience != "" {
		cfg.EndpointParams = url.Values{"audience": {audience}}
	}
	t, err := cfg.Token(p.ctx(ctx))
	if err != nil {
		return nil, fmt.Errorf("client credentials for client %s at %s: %w (check the secret's file or variable, and that the client may use this grant and audience)",
			p.settings.ClientID, p.settings.Issuer, redactRetrieveError(err, secret))
	}
	if t.AccessToken == "" {
		return nil, errors.New("the issuer returned no access token")
	}
	claims, err := p.VerifyFor(ctx, t.AccessToken, audience)
	if err != nil {
		return nil, fmt.Errorf("the access token from %s is not a JWT the API server could verify (%w); configure the issuer to issue JWT access tokens for audience %s", p.settings.Issuer, err, audience)
	}
	return &Tokens{IDToken: t.AccessToken, Claims: *claims}, nil
}

// TokenRequest posts an extension grant (RFC 6749 section 4.5; the
// grant's own file in package grant builds its form) to the token
// endpoint as this client, and verifies the token issued against the
// issuer's keys for the audience. An RFC 8693 answer whose
// issued_token_type is not an ID token may carry one in id_token.
func (p *Provider) TokenRequest(ctx context.Context, r grant.TokenRequest) (*Tokens, error) {
	if r.Audience == "" {
		r.Audience = p.settings.ClientID
	}
	cfg := clientcredentials.Config{
		// x/oauth2's clientcredentials lets grant_type be replaced, for
		// exactly such extension grants; it sends the client's
		// authentication and parses the token response (errors included).
		ClientID:       p.settings.ClientID,
		ClientSecret:   r.ClientSecret,
		TokenURL:       p.provider.Endpoint().TokenURL,
		Scopes:         p.scopesWithoutOffline(),
		EndpointParams: r.Params,
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	t, err := cfg.Token(p.ctx(ctx))
	if err != nil {
		return nil, fmt.Errorf("%s at %s for client %s: %w (%s)", r.What, p.settings.Issuer, p.settings.ClientID, redactRetrieveError(err, r.Secrets...), r.Hint)
	}
	raw := t.AccessToken
	issued, _ := t.Extra("issued_token_type").(string)
	if issued != "" && issued != grant.TokenTypeIDToken {
		if id, _ := t.Extra("id_token").(string); id != "" {
			raw = id
		} else {
			return nil, fmt.Errorf("%s at %s issued a %s, not the ID token asked for", r.What, p.settings.Issuer, issued)
		}
	}
	claims, err := p.VerifyFor(ctx, raw, r.Audience)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", r.What, p.settings.Issuer, err)
	}
	return &Tokens{IDToken: raw, Claims: *claims}, nil
}

// VerifyFor verifies a JWT from this issuer for audience (the client ID
// when empty): signature against the published keys, issuer, expiry.
func (p *Provider) VerifyFor(ctx context.Context, raw, audience string) (*token.Claims, error) {
	if audience == "" {
		audience = p.settings.ClientID
	}
	v := p.provider.Verifier(&gooidc.Config{ClientID: audience, Now: p.now})
	tok, err := v.Verify(gooidc.ClientContext(ctx, p.client), raw)
	if err != nil {
		return nil, fmt.Errorf("verify the token: %w", err)
	}
	var c struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("read the token's claims: %w", err)
	}
	return &token.Claims{Issuer: tok.Issuer, Subject: tok.Subject, Email: c.Email, Groups: c.Groups, Audience: tok.Audience, Expiry: tok.Expiry}, nil
}

// scopesWithoutOffline are the scopes of a grant that yields no refresh
// token: the configured ones, with openid.
func (p *Provider) scopesWithoutOffline() []string { return Scopes(p.settings.Scopes) }

// nonOpenIDScopes are the configured scopes without openid: a client
// credentials token is an access token about a client, not an ID token
// about a person, and issuers refuse openid for it.
func nonOpenIDScopes(scopes []string) []string {
	var out []string
	for _, s := range Scopes(scopes) {
		if s != "openid" && !slices.Contains(out, s) {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}
