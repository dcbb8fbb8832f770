// Package tokenstore owns where OIDC token sets live between kubectl runs:
// the OS keyring, a private directory of files, or nowhere. It also owns the
// per-key lock that keeps concurrent refreshes from burning each other's
// rotating refresh tokens.
//
// Nothing in this package puts a token into an error message: errors name the
// entry, the store and what to do, never the data.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound means the store holds no token set for the key.
	ErrNotFound = errors.New("no cached tokens")
	// ErrCorrupt means an entry exists but cannot be trusted (undecodable,
	// torn write, wrong key). Callers discard it and log in again.
	ErrCorrupt = errors.New("cached tokens are corrupt")
)

// Unreadable reports whether err from a store's Get means the store itself
// failed (a locked or unreachable keyring, an unreadable file), as opposed
// to an entry that is missing or corrupt, which a login replaces.
func Unreadable(err error) bool {
	return err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt)
}

// TokenSet is what a login leaves behind.
type TokenSet struct {
	IDToken      string    `json:"id_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry"` // the ID token's exp

	// From the verified ID token, for `status`.
	Subject string   `json:"sub,omitempty"`
	Email   string   `json:"email,omitempty"`
	Groups  []string `json:"groups,omitempty"`

	// A copy of the key, so List can say whose tokens these are and
	// `logout --all` can delete them. Put fills these in from its key.
	Issuer      string            `json:"issuer"`
	ClientID    string            `json:"client_id"`
	Scopes      []string          `json:"scopes,omitempty"`
	ExtraParams map[string]string `json:"extra_params,omitempty"`
	Grant       string            `json:"grant,omitempty"`

	// Source is, for a machine grant, the fingerprint of the CI job's
	// material the token was minted from (see access.Flags.Source); a
	// token minted for another job is never handed out.
	Source string `json:"source,omitempty"`
}

// Key is the key the token set was stored under.
func (t *TokenSet) Key() Key {
	return Key{Issuer: t.Issuer, ClientID: t.ClientID, Scopes: t.Scopes, ExtraParams: t.ExtraParams, Grant: t.Grant}
}

// stamped returns a copy of t carrying k, so a stored entry always names
// the key it belongs to and a misplaced entry is detectable on read.
func stamped(k Key, t *TokenSet) *TokenSet {
	c := *t
	c.Issuer, c.ClientID = k.Issuer, k.ClientID
	c.Scopes = normalScopes(k.Scopes)
	c.ExtraParams = k.ExtraParams
	c.Grant = k.Grant
	if len(c.Scopes) == 0 {
		c.Scopes = nil
	}
	if len(c.ExtraParams) == 0 {
		c.ExtraParams = nil
	}
	return &c
}

// Store keeps token sets by key.
type Store interface {
	// Kind is "keyring", "file" or "none".
	Kind() string
	// Location is human text for `status`.
	Location() string
	// Get returns ErrNotFound when nothing is stored, ErrCorrupt (wrapped)
	// when what is stored cannot be trusted.
	Get(k Key) (*TokenSet, error)
	Put(k Key, t *TokenSet) error
	// Delete removes the entry; a missing entry is not an error.
	Delete(k Key) error
	// List returns every readable entry; entries that cannot be decoded are
	// left out (Get reports them as ErrCorrupt).
	List() ([]*TokenSet, error)
}

// readAll is a List: the token sets read from each place, skipping one
// that is gone or corrupt since it was listed (a concurrent Delete, a
// half-written entry of an old version), and failing on any other error.
func readAll(places []string, read func(string) (*TokenSet, error)) ([]*TokenSet, error) {
	var out []*TokenSet
	for _, p := range places {
		ts, err := read(p)
		switch {
		case errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, ts)
	}
	return out, nil
}

// decodeTokenSet parses a stored entry. The JSON error is deliberately
// dropped: its text can quote the data, and the data holds tokens.
func decodeTokenSet(data []byte, where string) (*TokenSet, error) {
	var ts TokenSet
	if json.Unmarshal(data, &ts) != nil {
		return nil, fmt.Errorf("%s is not a readable token set: %w", where, ErrCorrupt)
	}
	if ts.IDToken == "" {
		return nil, fmt.Errorf("%s holds no ID token: %w", where, ErrCorrupt)
	}
	return &ts, nil
}

// checkKey refuses an entry stored for a different key (a copied or
// renamed file), so a token never goes to a login it was not issued for.
func checkKey(ts *TokenSet, k Key, where string) error {
	if ts.Key().ID() != k.ID() {
		return fmt.Errorf("%s holds tokens for another issuer or client: %w", where, ErrCorrupt)
	}
	return nil
}
