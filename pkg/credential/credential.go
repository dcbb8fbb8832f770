// Package credential hands out OIDC tokens for kubectl: it reads the cached
// token set, refreshes it under a per-key lock when it is stale, falls back to
// an interactive login only when kubectl says a person is there, and releases
// a token only to the server and CA pins it is bound to.
//
// The flows live in credential/oidc, the stores in credential/tokencache and
// the ExecCredential wire format in credential/execinfo.
package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/cachedtoken"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/tokencache"
)

// DefaultExpiryMargin is how long before the ID token's real expiry kubectl
// is told it expires, so a request never leaves with a token about to lapse.
const DefaultExpiryMargin = cachedtoken.DefaultExpiryMargin

// KeyFor is the cache key of a client: clusters sharing issuer and client
// share one login.
func KeyFor(s oidc.Settings) tokencache.Key {
	return cachedtoken.Key(s.Issuer, s.ClientID, s.Scopes, s.ExtraParams)
}

// Manager gets tokens. Every side effect is a field, so tests drive it.
type Manager struct {
	Store        tokencache.Store
	LockDir      string
	LockTimeout  time.Duration
	ExpiryMargin time.Duration
	Now          func() time.Time
	Log          *slog.Logger
	// Discover returns a ready issuer (network: only on refresh/login).
	Discover func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	// Login runs an interactive login; nil means none is possible.
	Login func(ctx context.Context, issuer oidc.Issuer) (*oidc.Tokens, error)
	// Approvals are the clusters the user approved per login; Token
	// releases nothing to any other (nil approves nothing).
	Approvals Approvals
}

// ErrLoginRequired means no usable token exists and no person is there to
// log in. Its message names the command to run.
type ErrLoginRequired struct {
	Command string
	Reason  string
}

func (e *ErrLoginRequired) Error() string {
	return fmt.Sprintf("%s; run `%s` in a terminal, then retry", e.Reason, e.Command)
}

// Request is one token request.
type Request struct {
	Settings    oidc.Settings
	Interactive bool
	// Binding is the cluster the token is for, already checked against
	// what kubectl trusts; it must be approved for this login.
	Binding Binding
	// LoginCommand is shown when a login (or an approval) is needed and
	// not possible here.
	LoginCommand string
}

// Token returns a usable token set, refreshing or logging in as needed,
// for a cluster the user approved for this login. An unapproved cluster
// fails at once, before any token is read or any login starts, even when
// kubectl is interactive: approving is `login NAME` or a confirmation at
// import, add or use, never a side effect of a kubectl call.
func (m *Manager) Token(ctx context.Context, r Request) (*tokencache.TokenSet, error) {
	key := KeyFor(r.Settings)
	if err := m.checkApproved(key, r); err != nil {
		return nil, err
	}
	ts, err := m.cached(key, r.Settings)
	if err != nil || ts != nil {
		if ts != nil {
			m.Log.Debug("using cached token", "store", m.Store.Kind(), "expires", ts.Expiry)
		}
		return ts, err
	}
	// Refresh tokens rotate: two processes refreshing at once would burn
	// each other's. Serialize per key, and re-read after taking the lock,
	// since the holder before us has probably just refreshed.
	unlock, err := tokencache.LockKey(ctx, m.LockDir, key, m.lockTimeout())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if ts, err := m.cached(key, r.Settings); err != nil || ts != nil {
		if ts != nil {
			m.Log.Debug("another process refreshed the token while we waited")
		}
		return ts, err
	}
	stale, _ := m.Store.Get(key)
	var provider oidc.Issuer
	if stale != nil && stale.RefreshToken != "" {
		if provider, err = m.Discover(ctx, r.Settings); err != nil {
			return nil, err
		}
		tokens, err := provider.Refresh(ctx, stale.RefreshToken)
		if err == nil {
			m.Log.Debug("refreshed the token")
			return m.save(key, tokens)
		}
		var refreshErr *oidc.RefreshError
		if !errors.As(err, &refreshErr) {
			return nil, err
		}
		// The provider's words may quote the tokens it was sent or issued.
		refused := tokencache.Redact(refreshErr.Err.Error(), stale.RefreshToken, stale.IDToken)
		m.Log.Debug("refresh refused; dropping the cached tokens", "reason", refused)
		_ = m.Store.Delete(key)
		if !r.Interactive || m.Login == nil {
			return nil, &ErrLoginRequired{Command: r.LoginCommand, Reason: "the refresh token was refused (revoked or expired): " + refused}
		}
	}
	if !r.Interactive || m.Login == nil {
		reason := "no cached token"
		if stale != nil {
			reason = "the cached token has expired and cannot be refreshed"
		}
		return nil, &ErrLoginRequired{Command: r.LoginCommand, Reason: reason + " and kubectl is not interactive"}
	}
	if provider == nil {
		if provider, err = m.Discover(ctx, r.Settings); err != nil {
			return nil, err
		}
	}
	tokens, err := m.Login(ctx, provider)
	if err != nil {
		return nil, err
	}
	return m.save(key, tokens)
}

// StoreReady reads the entry a login for s would write, so that a locked or
// unreachable store (an explicit keyring is not probed when opened) fails
// before anyone goes through a login whose tokens could not be kept.
func (m *Manager) StoreReady(s oidc.Settings) error {
	if _, err := m.Store.Get(KeyFor(s)); tokencache.Unreadable(err) {
		return fmt.Errorf("the %s store cannot be read, so a login could not be saved: %w", m.Store.Kind(), err)
	}
	return nil
}

// Save stores a fresh token set from a login.
func (m *Manager) Save(s oidc.Settings, tokens *oidc.Tokens) (*tokencache.TokenSet, error) {
	return m.save(KeyFor(s), tokens)
}

func (m *Manager) save(key tokencache.Key, t *oidc.Tokens) (*tokencache.TokenSet, error) {
	ts := &tokencache.TokenSet{
		IDToken:      t.IDToken,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Claims.Expiry,
		Subject:      t.Claims.Subject,
		Email:        t.Claims.Email,
		Groups:       t.Claims.Groups,
		Issuer:       key.Issuer,
		ClientID:     key.ClientID,
	}
	if err := m.Store.Put(key, ts); err != nil {
		return nil, fmt.Errorf("save tokens to the %s store: %w", m.Store.Kind(), err)
	}
	return ts, nil
}

// cached returns the stored token set when its ID token is still usable. A
// corrupt entry, or one whose token is garbage, for another issuer or
// audience, or expired, is not returned; a corrupt one is deleted. A store
// that cannot be read (a locked or hung keyring) is an error, not an empty
// cache: otherwise the user would be told to log in, and the login would
// fail on the same store.
func (m *Manager) cached(key tokencache.Key, s oidc.Settings) (*tokencache.TokenSet, error) {
	ts, err := m.Store.Get(key)
	switch {
	case tokencache.Unreadable(err):
		return nil, err // the store's error names the entry and the way out
	case errors.Is(err, tokencache.ErrCorrupt):
		m.Log.Debug("discarding a corrupt cache entry", "store", m.Store.Kind())
		_ = m.Store.Delete(key)
		return nil, nil
	case err != nil || ts == nil:
		return nil, nil
	}
	if reason := m.unusable(ts, s); reason != "" {
		m.Log.Debug("cached token not usable", "reason", reason)
		return nil, nil
	}
	return ts, nil
}

// unusable is the rule the small exec program's fast path applies too:
// cachedtoken.Unusable is its one implementation.
func (m *Manager) unusable(ts *tokencache.TokenSet, s oidc.Settings) string {
	return cachedtoken.Unusable(ts, s.Issuer, s.ClientID, m.ExpiryMargin, m.Now())
}

// ExpiryFor is the expirationTimestamp kubectl gets: the margin before the
// token's real expiry, so kubectl asks again in time.
func (m *Manager) ExpiryFor(ts *tokencache.TokenSet) time.Time {
	return cachedtoken.ExpiryFor(ts, m.ExpiryMargin)
}

func (m *Manager) lockTimeout() time.Duration {
	if m.LockTimeout > 0 {
		return m.LockTimeout
	}
	return 60 * time.Second // long enough for a person to finish a browser login
}
