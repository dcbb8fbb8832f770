// Package credential hands out OIDC tokens for kubectl: it reads the cached
// token set, refreshes it under a per-key lock when it is stale, falls back to
// an interactive login only when kubectl says a person is there, and releases
// a token only to the server and CA pins it is bound to.
//
// The flows live in credential/oidc, the stores in credential/tokenstore and
// the exec-plugin contract (the ExecCredential wire, the release checks, the small program's answer) in credential/execplugin.
package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// DefaultExpiryMargin is how long before the ID token's real expiry kubectl
// is told it expires, so a request never leaves with a token about to lapse.
const DefaultExpiryMargin = token.DefaultExpiryMargin

// Manager gets tokens. Every side effect is a field, so tests drive it.
type Manager struct {
	Store        tokenstore.Store
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
	Approvals binding.Approvals
	// Mint gets a fresh token with no person and no refresh token: a
	// machine grant (the CI's own token, token exchange, client
	// credentials). When set, Token never refreshes or logs in; it mints
	// under the key's lock, so parallel kubectl calls in one CI job make
	// one request per token lifetime.
	Mint func(ctx context.Context) (*oidc.Tokens, error)
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
	Binding binding.Binding
	// LoginCommand is shown when a login (or an approval) is needed and
	// not possible here.
	LoginCommand string
	// Key is where the token set is cached: access.Flags.Key, the key the
	// exec stanza's credential call uses (a machine grant's names its
	// grant). Required: a default would be a person's key, and a machine
	// grant left without one would read and write a person's login.
	Key tokenstore.Key
	// Audience is the aud the token must carry; "" means the client ID.
	Audience string
	// Source is the machine grant's fingerprint of the CI job's material
	// (access.Flags.Source): a cached token minted under another is not
	// handed out.
	Source string
}

// errNoKey is a caller's mistake, reported rather than guessed around.
var errNoKey = errors.New("credential.Request has no Key: name it with access.Flags.Key")

func (r Request) key() (tokenstore.Key, error) {
	if r.Key.Issuer == "" || r.Key.ClientID == "" {
		return tokenstore.Key{}, errNoKey
	}
	return r.Key, nil
}

func (r Request) audience() string {
	if r.Audience != "" {
		return r.Audience
	}
	return r.Settings.ClientID
}

// Token returns a usable token set, refreshing or logging in as needed,
// for a cluster the user approved for this login. An unapproved cluster
// fails at once, before any token is read or any login starts, even when
// kubectl is interactive: approving is `login NAME` or a confirmation at
// import, add or use, never a side effect of a kubectl call.
func (m *Manager) Token(ctx context.Context, r Request) (*tokenstore.TokenSet, error) {
	key, err := r.key()
	if err != nil {
		return nil, err
	}
	if err := m.checkApproved(key, r); err != nil {
		return nil, err
	}
	if m.Mint != nil {
		return m.mintToken(ctx, key, r)
	}
	// Refresh tokens rotate: two processes refreshing at once would burn
	// each other's, so refreshes are serialized per key.
	ts, unlock, err := m.cachedOrLocked(ctx, key, r, "refreshed")
	if err != nil || ts != nil {
		return ts, err
	}
	defer unlock()
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
		refused := redact.Redact(refreshErr.Err.Error(), stale.RefreshToken, stale.IDToken)
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

// mintToken is Token for a machine grant: the cached token while it is
// usable and was minted for this job, else a fresh one from Mint, taken
// under the key's lock so that one process mints and the others read it.
func (m *Manager) mintToken(ctx context.Context, key tokenstore.Key, r Request) (*tokenstore.TokenSet, error) {
	ts, unlock, err := m.cachedOrLocked(ctx, key, r, "minted")
	if err != nil || ts != nil {
		return ts, err
	}
	defer unlock()
	tokens, err := m.Mint(ctx)
	if err != nil {
		return nil, err
	}
	m.Log.Debug("minted a token with no person", "grant", key.Grant, "expires", tokens.Claims.Expiry)
	return m.saveMinted(key, tokens, r)
}

// cachedOrLocked returns the usable cached token set; failing that, it
// takes the key's lock and reads again, since the holder before us has
// probably just made one (what says how), and returns the unlock for the
// caller, who now makes it.
func (m *Manager) cachedOrLocked(ctx context.Context, key tokenstore.Key, r Request, what string) (*tokenstore.TokenSet, func(), error) {
	ts, err := m.cached(key, r)
	if err != nil || ts != nil {
		if ts != nil {
			m.Log.Debug("using cached token", "store", m.Store.Kind(), "expires", ts.Expiry)
		}
		return ts, nil, err
	}
	unlock, err := tokenstore.LockKey(ctx, m.LockDir, key, m.lockTimeout())
	if err != nil {
		return nil, nil, err
	}
	if ts, err := m.cached(key, r); err != nil || ts != nil {
		unlock()
		if ts != nil {
			m.Log.Debug("another process " + what + " the token while we waited")
		}
		return ts, nil, err
	}
	return nil, unlock, nil
}

// SaveMinted stores a token a machine grant minted outside Token (login).
func (m *Manager) SaveMinted(r Request, tokens *oidc.Tokens) (*tokenstore.TokenSet, error) {
	key, err := r.key()
	if err != nil {
		return nil, err
	}
	return m.saveMinted(key, tokens, r)
}

func (m *Manager) saveMinted(key tokenstore.Key, t *oidc.Tokens, r Request) (*tokenstore.TokenSet, error) {
	if reason := token.Unusable(&tokenstore.TokenSet{IDToken: t.IDToken}, r.Settings.Issuer, r.audience(), m.ExpiryMargin, m.Now()); reason != "" {
		// A token kubectl could not use (or the cache would refuse at
		// once) is an error here, not a mint on every call.
		return nil, fmt.Errorf("the minted token is not usable for this cluster (%s); want issuer %s and audience %s, valid for more than the expiry margin (%s)", reason, r.Settings.Issuer, r.audience(), token.Margin(m.ExpiryMargin))
	}
	ts := tokenSetFrom(key, t)
	ts.Source = r.Source
	if err := m.Store.Put(key, ts); err != nil {
		return nil, fmt.Errorf("save the token to the %s store: %w", m.Store.Kind(), err)
	}
	return ts, nil
}

// StoreReady reads the entry a login would write under key, so that a
// locked or unreachable store (an explicit keyring is not probed when
// opened) fails before anyone goes through a login whose tokens could not
// be kept.
func (m *Manager) StoreReady(key tokenstore.Key) error {
	if _, err := m.Store.Get(key); tokenstore.Unreadable(err) {
		return fmt.Errorf("the %s store cannot be read, so a login could not be saved: %w", m.Store.Kind(), err)
	}
	return nil
}

// Save stores a fresh token set from a login under key.
func (m *Manager) Save(key tokenstore.Key, tokens *oidc.Tokens) (*tokenstore.TokenSet, error) {
	return m.save(key, tokens)
}

func (m *Manager) save(key tokenstore.Key, t *oidc.Tokens) (*tokenstore.TokenSet, error) {
	ts := tokenSetFrom(key, t)
	if err := m.Store.Put(key, ts); err != nil {
		return nil, fmt.Errorf("save tokens to the %s store: %w", m.Store.Kind(), err)
	}
	return ts, nil
}

func tokenSetFrom(key tokenstore.Key, t *oidc.Tokens) *tokenstore.TokenSet {
	return &tokenstore.TokenSet{
		IDToken:      t.IDToken,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Claims.Expiry,
		Subject:      t.Claims.Subject,
		Email:        t.Claims.Email,
		Groups:       t.Claims.Groups,
		Issuer:       key.Issuer,
		ClientID:     key.ClientID,
	}
}

// cached returns the stored token set when its ID token is still usable. A
// corrupt entry, or one whose token is garbage, for another issuer or
// audience, or expired, is not returned; a corrupt one is deleted. A store
// that cannot be read (a locked or hung keyring) is an error, not an empty
// cache: otherwise the user would be told to log in, and the login would
// fail on the same store.
func (m *Manager) cached(key tokenstore.Key, r Request) (*tokenstore.TokenSet, error) {
	ts, err := m.Store.Get(key)
	switch {
	case tokenstore.Unreadable(err):
		return nil, err // the store's error names the entry and the way out
	case errors.Is(err, tokenstore.ErrCorrupt):
		m.Log.Debug("discarding a corrupt cache entry", "store", m.Store.Kind())
		_ = m.Store.Delete(key)
		return nil, nil
	case err != nil || ts == nil:
		return nil, nil
	}
	if reason := m.unusable(ts, r); reason != "" {
		m.Log.Debug("cached token not usable", "reason", reason)
		return nil, nil
	}
	return ts, nil
}

// unusable is the rule the small exec program's fast path applies too:
// token.Unusable is its one implementation, and a machine grant's
// token must have been minted for this job (token.SourceMatches).
func (m *Manager) unusable(ts *tokenstore.TokenSet, r Request) string {
	if !token.SourceMatches(ts, r.Key, r.Source) {
		return "minted for another CI job"
	}
	return token.Unusable(ts, r.Settings.Issuer, r.audience(), m.ExpiryMargin, m.Now())
}

// ExpiryFor is the expirationTimestamp kubectl gets: the margin before the
// token's real expiry, so kubectl asks again in time.
func (m *Manager) ExpiryFor(ts *tokenstore.TokenSet) time.Time {
	return token.ExpiryFor(ts, m.ExpiryMargin)
}

func (m *Manager) lockTimeout() time.Duration {
	if m.LockTimeout > 0 {
		return m.LockTimeout
	}
	return 60 * time.Second // long enough for a person to finish a browser login
}
