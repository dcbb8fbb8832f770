// Package token decides, from the token cache alone and without the
// network, what the exec credential path may hand kubectl: the cache key of
// an OIDC client, whether a cached ID token is still usable, and the expiry
// kubectl is told. It is the one implementation of those rules: the
// credential Manager (full CLI) and the small exec program's fast path
// (pkg/credential/execplugin) both call it, so the two cannot disagree.
//
// It links nothing but the standard library and tokenstore, because the
// small exec program must start at the Go process floor.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// DefaultExpiryMargin is how long before the ID token's real expiry kubectl
// is told it expires, so a request never leaves with a token about to lapse.
const DefaultExpiryMargin = time.Minute

// Claims are the ID token's claims securekapi shows and checks.
type Claims struct {
	Issuer   string
	Subject  string
	Email    string
	Groups   []string
	Audience []string
	Expiry   time.Time
}

// Scopes is the scope set requested: openid plus the extras, deduplicated
// and sorted, so the same client always asks (and is cached) the same way.
func Scopes(extra []string) []string {
	seen := map[string]bool{"openid": true}
	out := []string{"openid"}
	for _, s := range extra {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out[1:])
	return out
}

// Key is the cache key of a client: clusters sharing issuer and client
// share one login.
func Key(issuer, clientID string, extraScopes []string, extraParams map[string]string) tokenstore.Key {
	return tokenstore.Key{Issuer: issuer, ClientID: clientID, Scopes: Scopes(extraScopes), ExtraParams: extraParams}
}

// PeekClaims reads an ID token's claims WITHOUT verifying its signature.
// The exec credential hot path uses it to decide whether a cached token is
// still usable (expiry, issuer, audience) without a network round trip; the
// API server verifies the signature on every request anyway.
func PeekClaims(rawIDToken string) (*Claims, error) {
	parts := strings.Split(rawIDToken, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("JWT payload is not base64url")
	}
	var c struct {
		Iss    string          `json:"iss"`
		Sub    string          `json:"sub"`
		Email  string          `json:"email"`
		Groups []string        `json:"groups"`
		Aud    json.RawMessage `json:"aud"`
		Exp    json.Number     `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("JWT payload is not JSON")
	}
	exp, err := c.Exp.Int64()
	if err != nil || exp <= 0 {
		return nil, errors.New("JWT has no valid exp claim")
	}
	var aud []string
	if err := json.Unmarshal(c.Aud, &aud); err != nil {
		var one string
		if json.Unmarshal(c.Aud, &one) != nil {
			return nil, errors.New("JWT has no valid aud claim")
		}
		aud = []string{one}
	}
	return &Claims{Issuer: c.Iss, Subject: c.Sub, Email: c.Email, Groups: c.Groups, Audience: aud, Expiry: time.Unix(exp, 0)}, nil
}

// Unusable says why a cached token set may not be handed out for the client
// (issuer, clientID) at now, with margin before expiry; "" means usable.
// The reason never quotes the token.
func Unusable(ts *tokenstore.TokenSet, issuer, clientID string, margin time.Duration, now time.Time) string {
	c, err := PeekClaims(ts.IDToken)
	switch {
	case err != nil:
		return "garbage ID token: " + err.Error()
	case c.Issuer != issuer:
		return "issued by " + c.Issuer
	case !slices.Contains(c.Audience, clientID):
		return "wrong audience"
	case !c.Expiry.Add(-Margin(margin)).After(now):
		return "expired or about to"
	}
	return ""
}

// SourceMatches reports whether a cached token under key was minted from
// the CI job material whose fingerprint is source (access.Flags.Source; ""
// for a person's login). A machine grant's token (key.Grant set) is never
// handed out without the material: a job that lacks it (its secret variable
// unset, its token file gone) gets nothing from the cache, whatever an
// earlier job or an older securekapi stored.
func SourceMatches(ts *tokenstore.TokenSet, key tokenstore.Key, source string) bool {
	if key.Grant != "" && source == "" {
		return false
	}
	return ts.Source == source
}

// ExpiryFor is the expirationTimestamp kubectl gets: the margin before the
// token's real expiry, so kubectl asks again in time.
func ExpiryFor(ts *tokenstore.TokenSet, margin time.Duration) time.Time {
	if c, err := PeekClaims(ts.IDToken); err == nil {
		return c.Expiry.Add(-Margin(margin))
	}
	return ts.Expiry.Add(-Margin(margin))
}

// Margin is margin, or DefaultExpiryMargin when it is not positive.
func Margin(margin time.Duration) time.Duration {
	if margin > 0 {
		return margin
	}
	return DefaultExpiryMargin
}
