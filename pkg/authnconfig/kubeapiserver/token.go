package kubeapiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	api "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/oidc"

	"github.com/securekapi/securekapi/pkg/authnconfig"
)

// Verdict is how kube-apiserver would treat a sample token.
type Verdict struct {
	// Issuer and Audiences are the token's iss and aud.
	Issuer    string
	Audiences []string
	// Expiry is the token's exp. A sample saved from a CI run has usually
	// expired: it is judged as if it had just been issued, and Expired says
	// it was not.
	Expiry  time.Time
	Expired bool
	// Authenticator is the index in the configuration of the JWT
	// authenticator whose issuer the token names, or -1 for none.
	Authenticator int
	// Accepted is true when that authenticator accepts the token; then
	// Username and Groups are the identity RBAC sees.
	Accepted bool
	Username string
	Groups   []string
	// Reason is kube-apiserver's own error when it refuses.
	Reason string
}

// CheckToken judges a JWT the way kube-apiserver's JWT authenticators
// would, in the same order and with the same code, except that the
// signature is not checked (a sample token's issuer keys need not be
// reachable from here) and an expired token is judged as if fresh.
func CheckToken(ctx context.Context, cfg *api.AuthenticationConfiguration, t authnconfig.Target, rawJWT string, now time.Time) (*Verdict, error) {
	header, claims, err := splitJWT(rawJWT)
	if err != nil {
		return nil, err
	}
	v := &Verdict{Authenticator: -1}
	v.Issuer, _ = claims["iss"].(string)
	v.Audiences = audiences(claims["aud"])
	if exp, ok := claims["exp"].(float64); ok {
		v.Expiry = time.Unix(int64(exp), 0)
		v.Expired = !v.Expiry.After(now)
	}
	fresh, err := refreshTimes(header, claims, now)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, a := range cfg.JWT {
		if a.Issuer.URL != v.Issuer {
			continue
		}
		v.Authenticator = i
		// The key set stands in for the issuer's JWKS, so the discovery
		// URL, which only says where to fetch it, plays no part.
		a.Issuer.DiscoveryURL = ""
		authn, err := oidc.New(ctx, oidc.Options{
			JWTAuthenticator:     a,
			KeySet:               unverifiedKeySet{},
			Client:               &http.Client{Transport: refuseFetch{}},
			Compiler:             compilerFor(t),
			SupportedSigningAlgs: oidc.AllValidSigningAlgorithms(),
			DisallowedIssuers:    t.ServiceAccountIssuers,
		})
		if err != nil {
			return nil, fmt.Errorf("issuer %s: %w", a.Issuer.URL, err)
		}
		resp, ok, err := authn.AuthenticateToken(ctx, fresh)
		switch {
		case err != nil:
			v.Reason = err.Error()
		case !ok:
			v.Reason = "the authenticator did not recognise the token"
		default:
			v.Accepted = true
			v.Username = resp.User.GetName()
			v.Groups = resp.User.GetGroups()
		}
		return v, nil
	}
	known := make([]string, len(cfg.JWT))
	for i, a := range cfg.JWT {
		known[i] = a.Issuer.URL
	}
	v.Reason = fmt.Sprintf("no authenticator for issuer %q (the configuration has: %s)", v.Issuer, strings.Join(known, ", "))
	return v, nil
}

// unverifiedKeySet hands back a token's payload without checking its
// signature: the check is about claims, rules and mappings.
type unverifiedKeySet struct{}

func (unverifiedKeySet) VerifySignature(_ context.Context, jwt string) ([]byte, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	return base64.RawURLEncoding.DecodeString(parts[1])
}

// refuseFetch keeps the check offline: distributed claims would need the
// issuer, which a sample check does not contact.
type refuseFetch struct{}

func (refuseFetch) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("--check-token does not contact %s (distributed claims are resolved only by the API server)", r.URL.Host)
}

func splitJWT(raw string) (header, claims map[string]any, err error) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a JWT: expected three base64url parts separated by dots")
	}
	for i, into := range []*map[string]any{&header, &claims} {
		data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		if err != nil {
			return nil, nil, fmt.Errorf("not a JWT: part %d is not base64url: %w", i+1, err)
		}
		if err := json.Unmarshal(data, into); err != nil {
			return nil, nil, fmt.Errorf("not a JWT: part %d is not a JSON object: %w", i+1, err)
		}
	}
	return header, claims, nil
}

// refreshTimes re-encodes the token issued at now, keeping its lifetime
// (five minutes when it states none), so expiry does not hide what the
// rules say. The signature part is a placeholder, never checked.
func refreshTimes(header, claims map[string]any, now time.Time) (string, error) {
	lifetime := 5 * time.Minute
	exp, hasExp := claims["exp"].(float64)
	iat, hasIat := claims["iat"].(float64)
	if hasExp && hasIat && exp > iat {
		lifetime = time.Duration(exp-iat) * time.Second
	}
	fresh := make(map[string]any, len(claims))
	for k, v := range claims {
		fresh[k] = v
	}
	fresh["iat"] = now.Unix()
	fresh["exp"] = now.Add(lifetime).Unix()
	if _, ok := claims["nbf"]; ok {
		fresh["nbf"] = now.Unix()
	}
	var parts []string
	for _, part := range []map[string]any{header, fresh} {
		data, err := json.Marshal(part)
		if err != nil {
			return "", err
		}
		parts = append(parts, base64.RawURLEncoding.EncodeToString(data))
	}
	return strings.Join(parts, ".") + "." + base64.RawURLEncoding.EncodeToString([]byte("unchecked")), nil
}

func audiences(aud any) []string {
	switch a := aud.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		sort.Strings(out)
		return out
	}
	return nil
}
