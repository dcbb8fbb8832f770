package credential

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/token"

	"github.com/securekapi/securekapi/pkg/credential/grant"
)

// fakeIssuer is an oidc.Issuer that answers a refresh as the test says and
// records what it was sent.
type fakeIssuer struct {
	refresh   func(refreshToken string) (*oidc.Tokens, error)
	refreshed []string // the refresh tokens it was sent
}

func (f *fakeIssuer) Refresh(_ context.Context, refreshToken string) (*oidc.Tokens, error) {
	f.refreshed = append(f.refreshed, refreshToken)
	return f.refresh(refreshToken)
}
func (f *fakeIssuer) BrowserLogin(context.Context, oidc.BrowserOptions) (*oidc.Tokens, error) {
	return nil, errors.New("no browser in this test")
}
func (f *fakeIssuer) DeviceLogin(context.Context, func(oidc.DeviceAuthorization)) (*oidc.Tokens, error) {
	return nil, errors.New("no device flow in this test")
}
func (f *fakeIssuer) Revoke(context.Context, string) (bool, error) { return false, nil }
func (f *fakeIssuer) HasDeviceFlow() bool                          { return false }
func (f *fakeIssuer) TokenRequest(context.Context, grant.TokenRequest) (*oidc.Tokens, error) {
	return nil, errors.New("no token exchange in this test")
}
func (f *fakeIssuer) ClientCredentials(context.Context, string, string) (*oidc.Tokens, error) {
	return nil, errors.New("no client credentials in this test")
}
func (f *fakeIssuer) ScopesSupported() []string { return nil }

// issued is what a provider returns for a login or refresh at now.
func issued(t *testing.T, refreshToken string, lifetime time.Duration) *oidc.Tokens {
	exp := now.Add(lifetime)
	return &oidc.Tokens{IDToken: idToken(t, issuer, clientID, exp), RefreshToken: refreshToken,
		Claims: token.Claims{Issuer: issuer, Subject: "alice", Audience: []string{clientID}, Expiry: exp}}
}

func withIssuer(t *testing.T, f *fakeIssuer) *harness {
	return newHarness(t, func() (oidc.Issuer, error) { return f, nil })
}

// TestRefreshOnTheManagersClock: a token the manager's clock (not the
// machine's) says has expired is refreshed once; the fresh token is saved
// and served from the cache next time, without the issuer.
func TestRefreshOnTheManagersClock(t *testing.T) {
	f := &fakeIssuer{refresh: func(string) (*oidc.Tokens, error) { return issued(t, "r1", time.Hour), nil }}
	h := withIssuer(t, f)
	h.put(t, idToken(t, issuer, clientID, now.Add(-time.Minute)), "r1")
	ts, err := h.manager.Token(t.Context(), request(false))
	if err != nil || ts.Expiry != now.Add(time.Hour) {
		t.Fatalf("Token() = %+v, %v; want the refreshed token", ts, err)
	}
	if len(f.refreshed) != 1 || f.refreshed[0] != "r1" {
		t.Fatalf("refresh tokens sent: %v, want [r1]", f.refreshed)
	}
	if _, err := h.manager.Token(t.Context(), request(false)); err != nil || len(f.refreshed) != 1 || h.discovers != 1 {
		t.Fatalf("second Token(): %v after %d refreshes and %d discoveries, want the cached token", err, len(f.refreshed), h.discovers)
	}

	// Two hours on, by the manager's clock only, it is stale again.
	h.manager.Now = func() time.Time { return now.Add(2 * time.Hour) }
	if _, err := h.manager.Token(t.Context(), request(false)); err != nil || len(f.refreshed) != 2 {
		t.Fatalf("Token() two hours on: %v after %d refreshes, want a second refresh", err, len(f.refreshed))
	}
}

// TestRefreshTokenRotation: a provider that rotates refresh tokens gets
// the new one next time; the old one is never sent again.
func TestRefreshTokenRotation(t *testing.T) {
	next := 1
	f := &fakeIssuer{refresh: func(string) (*oidc.Tokens, error) {
		next++
		return issued(t, "r"+string(rune('0'+next)), time.Minute), nil
	}}
	h := withIssuer(t, f)
	h.put(t, idToken(t, issuer, clientID, now.Add(-time.Minute)), "r1")
	if _, err := h.manager.Token(t.Context(), request(false)); err != nil {
		t.Fatal(err)
	}
	stored, _ := h.store.Get(keyFor(settings()))
	if stored.RefreshToken != "r2" {
		t.Fatalf("stored refresh token %q after rotation, want r2", stored.RefreshToken)
	}
	// The minute-long token is within the expiry margin: refresh again.
	if _, err := h.manager.Token(t.Context(), request(false)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.refreshed, ",") != "r1,r2" {
		t.Fatalf("refresh tokens sent: %v, want r1 then the rotated r2", f.refreshed)
	}
}

// TestRefusedRefresh: a refresh the provider refuses (revoked, expired)
// drops the dead tokens; kubectl off a terminal is told the login command,
// with the provider's reason but never the token; on a terminal the
// manager logs in, with the issuer it already discovered.
func TestRefusedRefresh(t *testing.T) {
	refuse := func(string) (*oidc.Tokens, error) {
		return nil, &oidc.RefreshError{Err: errors.New(`invalid_grant: refresh token r1-secret is revoked`)}
	}
	f := &fakeIssuer{refresh: refuse}
	h := withIssuer(t, f)
	h.put(t, idToken(t, issuer, clientID, now.Add(-time.Minute)), "r1-secret")
	_, err := h.manager.Token(t.Context(), request(false))
	var login *ErrLoginRequired
	if !errors.As(err, &login) || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "kubectl securekapi login cluster-a") {
		t.Fatalf("Token() = %v, want a login required naming the command", err)
	}
	if strings.Contains(err.Error(), "r1-secret") || strings.Contains(h.logs.String(), "r1-secret") {
		t.Fatalf("the refused refresh token leaked: %v\n%s", err, h.logs.String())
	}
	if ts, _ := h.store.Get(keyFor(settings())); ts != nil {
		t.Fatalf("the refused tokens were kept: %+v", ts)
	}

	h.put(t, idToken(t, issuer, clientID, now.Add(-time.Minute)), "r1-secret")
	h.discovers = 0
	var loggedInWith oidc.Issuer
	h.manager.Login = func(_ context.Context, iss oidc.Issuer) (*oidc.Tokens, error) {
		h.logins++
		loggedInWith = iss
		return issued(t, "r9", time.Hour), nil
	}
	ts, err := h.manager.Token(t.Context(), request(true))
	if err != nil || ts.RefreshToken != "r9" || h.logins != 1 {
		t.Fatalf("interactive Token() = %+v, %v after %d logins, want one login", ts, err, h.logins)
	}
	if loggedInWith != oidc.Issuer(f) || h.discovers != 1 {
		t.Errorf("the login used another issuer (%d discoveries), want the one the refresh used", h.discovers)
	}
}
