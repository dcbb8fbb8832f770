package credential

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

const (
	issuer   = "https://issuer.example.test"
	clientID = "kubectl"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// memStore is an in-memory tokenstore.Store that can also hand back a
// corrupt entry, as a damaged keyring item or file would.
type memStore struct {
	mu      sync.Mutex
	entries map[string]*tokenstore.TokenSet
	corrupt map[string]bool
	deleted []string
	getErr  error // e.g. a locked keyring
}

func newMemStore() *memStore {
	return &memStore{entries: map[string]*tokenstore.TokenSet{}, corrupt: map[string]bool{}}
}

func keyString(k tokenstore.Key) string { b, _ := json.Marshal(k); return string(b) }

func (s *memStore) Kind() string     { return "memory" }
func (s *memStore) Location() string { return "test memory" }
func (s *memStore) Get(k tokenstore.Key) (*tokenstore.TokenSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.getErr != nil {
		return nil, s.getErr
	}
	if s.corrupt[keyString(k)] {
		return nil, fmt.Errorf("entry: %w", tokenstore.ErrCorrupt)
	}
	ts, ok := s.entries[keyString(k)]
	if !ok {
		return nil, tokenstore.ErrNotFound
	}
	c := *ts
	return &c, nil
}
func (s *memStore) Put(k tokenstore.Key, t *tokenstore.TokenSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *t
	s.entries[keyString(k)] = &c
	delete(s.corrupt, keyString(k))
	return nil
}
func (s *memStore) Delete(k tokenstore.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, keyString(k))
	delete(s.corrupt, keyString(k))
	s.deleted = append(s.deleted, keyString(k))
	return nil
}
func (s *memStore) List() ([]*tokenstore.TokenSet, error) { return nil, nil }

// idToken is an unsigned JWT with the given claims; the cached path only
// reads claims (signatures were checked when the token was obtained).
func idToken(t *testing.T, iss, aud string, exp time.Time) string {
	t.Helper()
	return testjwt.Unsigned(map[string]any{"iss": iss, "aud": aud, "sub": "alice", "exp": exp.Unix()})
}

type harness struct {
	store     *memStore
	manager   *Manager
	discovers int
	logins    int
	logs      *strings.Builder
}

// newHarness wires a Manager whose provider is down unless discover is set.
func newHarness(t *testing.T, discover func() (oidc.Issuer, error)) *harness {
	h := &harness{store: newMemStore(), logs: &strings.Builder{}}
	if discover == nil {
		discover = func() (oidc.Issuer, error) {
			return nil, errors.New("dial tcp issuer.example.test:443: connection refused")
		}
	}
	h.manager = &Manager{
		Store:   h.store,
		LockDir: t.TempDir(),
		Now:     func() time.Time { return now },
		Log:     slog.New(slog.NewTextHandler(io.MultiWriter(h.logs), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Discover: func(context.Context, oidc.Settings) (oidc.Issuer, error) {
			h.discovers++
			return discover()
		},
		Approvals: approvedFor(clusterA, settings()),
	}
	return h
}

func settings() oidc.Settings { return oidc.Settings{Issuer: issuer, ClientID: clientID} }

func (h *harness) put(t *testing.T, idTok, refresh string) {
	t.Helper()
	if err := h.store.Put(keyFor(settings()), &tokenstore.TokenSet{IDToken: idTok, RefreshToken: refresh}); err != nil {
		t.Fatal(err)
	}
}

func request(interactive bool) Request {
	return Request{Settings: settings(), Interactive: interactive, Binding: clusterA, LoginCommand: "kubectl securekapi login cluster-a", Key: keyFor(settings())}
}

func TestValidCachedTokenNeedsNoNetwork(t *testing.T) {
	h := newHarness(t, nil)
	tok := idToken(t, issuer, clientID, now.Add(10*time.Minute))
	h.put(t, tok, "refresh-secret")
	ts, err := h.manager.Token(t.Context(), request(false))
	if err != nil {
		t.Fatal(err)
	}
	if ts.IDToken != tok || h.discovers != 0 {
		t.Fatalf("got token %v after %d discoveries; want the cached one and none", ts.IDToken == tok, h.discovers)
	}
	if got, want := h.manager.ExpiryFor(ts), now.Add(10*time.Minute-DefaultExpiryMargin); !got.Equal(want) {
		t.Errorf("ExpiryFor = %v, want %v (the margin before the real expiry)", got, want)
	}
}

// TestUnusableCachedTokens: expired, garbage, wrong-audience and
// other-issuer tokens are never handed out; without a refresh token and a
// person at the keyboard, the answer names the login command.
func TestUnusableCachedTokens(t *testing.T) {
	for name, tok := range map[string]string{
		"expired":             idToken(t, issuer, clientID, now.Add(-time.Minute)),
		"inside the margin":   idToken(t, issuer, clientID, now.Add(30*time.Second)),
		"garbage":             "not-a-jwt",
		"wrong audience":      idToken(t, issuer, "someone-else", now.Add(time.Hour)),
		"issued by another":   idToken(t, "https://evil.example.test", clientID, now.Add(time.Hour)),
		"three garbage parts": "a.b.c",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.put(t, tok, "")
			ts, err := h.manager.Token(t.Context(), request(false))
			var login *ErrLoginRequired
			if !errors.As(err, &login) || ts != nil {
				t.Fatalf("Token() = %v, %v; want ErrLoginRequired", ts, err)
			}
			if !strings.Contains(err.Error(), "kubectl securekapi login cluster-a") {
				t.Errorf("error does not name the login command: %v", err)
			}
			if h.discovers != 0 {
				t.Errorf("non-interactive request with nothing to refresh contacted the issuer")
			}
		})
	}
}

func TestCorruptEntryIsDiscardedNotFatal(t *testing.T) {
	h := newHarness(t, nil)
	h.store.corrupt[keyString(keyFor(settings()))] = true
	_, err := h.manager.Token(t.Context(), request(false))
	var login *ErrLoginRequired
	if !errors.As(err, &login) {
		t.Fatalf("Token() error = %v, want ErrLoginRequired", err)
	}
	if len(h.store.deleted) == 0 {
		t.Fatal("corrupt entry was not deleted")
	}
}

// TestProviderDownDuringRefresh: the error says what failed and never
// carries the refresh token.
func TestProviderDownDuringRefresh(t *testing.T) {
	h := newHarness(t, nil)
	h.put(t, idToken(t, issuer, clientID, now.Add(-time.Minute)), "refresh-secret-value")
	_, err := h.manager.Token(t.Context(), request(false))
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Token() error = %v, want the provider's failure", err)
	}
	if strings.Contains(err.Error(), "refresh-secret-value") || strings.Contains(h.logs.String(), "refresh-secret-value") {
		t.Fatal("the refresh token leaked into an error or a log")
	}
	// A provider outage must not throw away a refresh token that may work later.
	if ts, _ := h.store.Get(keyFor(settings())); ts == nil || ts.RefreshToken == "" {
		t.Fatal("refresh token dropped because the provider was down")
	}
}

// A store that cannot be read is reported as such: telling the user to log
// in would only fail again on the same store, and an interactive login must
// not start.
func TestUnreadableStoreIsAnErrorNotALogin(t *testing.T) {
	h := newHarness(t, func() (oidc.Issuer, error) { return nil, nil })
	h.manager.Login = func(context.Context, oidc.Issuer) (*oidc.Tokens, error) {
		h.logins++
		return nil, errors.New("unexpected")
	}
	h.store.getErr = errors.New("read keyring entry 0abc (service securekapi): Cannot create an item in a locked collection; if the keyring is locked or unavailable, unlock it or use --token-cache file")
	for _, interactive := range []bool{false, true} {
		_, err := h.manager.Token(t.Context(), request(interactive))
		var login *ErrLoginRequired
		if err == nil || errors.As(err, &login) || !strings.Contains(err.Error(), "locked collection") || !strings.Contains(err.Error(), "--token-cache file") {
			t.Fatalf("interactive=%v: Token() = %v, want the store's error", interactive, err)
		}
	}
	if h.logins != 0 || h.discovers != 0 {
		t.Fatalf("%d logins and %d discoveries with an unreadable store", h.logins, h.discovers)
	}
}

func TestStoreReady(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.manager.StoreReady(keyFor(settings())); err != nil {
		t.Fatalf("empty store: %v", err)
	}
	h.store.corrupt[keyString(keyFor(settings()))] = true
	if err := h.manager.StoreReady(keyFor(settings())); err != nil {
		t.Fatalf("a corrupt entry is replaced by the login, not an obstacle: %v", err)
	}
	h.store.getErr = errors.New("failed to unlock correct collection")
	if err := h.manager.StoreReady(keyFor(settings())); err == nil || !strings.Contains(err.Error(), "failed to unlock") || !strings.Contains(err.Error(), "memory store") {
		t.Fatalf("locked store: %v", err)
	}
}

func TestInteractiveLoginSavesTokens(t *testing.T) {
	h := newHarness(t, func() (oidc.Issuer, error) { return nil, nil })
	fresh := idToken(t, issuer, clientID, now.Add(time.Hour))
	h.manager.Login = func(context.Context, oidc.Issuer) (*oidc.Tokens, error) {
		h.logins++
		return &oidc.Tokens{IDToken: fresh, RefreshToken: "r2", Claims: token.Claims{Subject: "alice", Expiry: now.Add(time.Hour)}}, nil
	}
	ts, err := h.manager.Token(t.Context(), request(true))
	if err != nil || ts.IDToken != fresh || h.logins != 1 {
		t.Fatalf("Token() = %v, %v after %d logins", ts, err, h.logins)
	}
	// The next call is served from the cache.
	if _, err := h.manager.Token(t.Context(), request(false)); err != nil || h.logins != 1 {
		t.Fatalf("second Token() = %v after %d logins, want the cached token", err, h.logins)
	}
}

func TestNonInteractiveNeverLogsIn(t *testing.T) {
	h := newHarness(t, func() (oidc.Issuer, error) { return nil, nil })
	h.manager.Login = func(context.Context, oidc.Issuer) (*oidc.Tokens, error) {
		h.logins++
		return nil, errors.New("unexpected")
	}
	_, err := h.manager.Token(t.Context(), request(false))
	var login *ErrLoginRequired
	if !errors.As(err, &login) || h.logins != 0 {
		t.Fatalf("Token() = %v after %d logins; want ErrLoginRequired and no login", err, h.logins)
	}
}

func TestKeyForIsSharedAcrossClustersAndCanonical(t *testing.T) {
	a := keyFor(oidc.Settings{Issuer: issuer, ClientID: clientID, Scopes: []string{"groups", "email"}})
	b := keyFor(oidc.Settings{Issuer: issuer, ClientID: clientID, Scopes: []string{"email", "groups", "openid"}})
	if keyString(a) != keyString(b) {
		t.Fatalf("same client, same scopes in another order: %s vs %s", keyString(a), keyString(b))
	}
	c := keyFor(oidc.Settings{Issuer: issuer, ClientID: "other", Scopes: []string{"email", "groups"}})
	if keyString(a) == keyString(c) {
		t.Fatal("another client shares the key")
	}
}

// keyFor is a person's key for s, as access.Flags.Key makes it.
func keyFor(s oidc.Settings) tokenstore.Key {
	return token.Key(s.Issuer, s.ClientID, s.Scopes, s.ExtraParams)
}

// TestARequestWithoutAKeyIsRefused: a Request must name its key; a
// default would be a person's, which a machine grant must never use.
func TestARequestWithoutAKeyIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	r := request(false)
	r.Key = tokenstore.Key{}
	if _, err := h.manager.Token(t.Context(), r); !errors.Is(err, errNoKey) {
		t.Errorf("Token without a key: %v", err)
	}
}
