package tokenstore

import (
	"errors"

	"github.com/securekapi/securekapi/pkg/credential/redact"
)

// scrub keeps a keyring backend's error from carrying the value it was
// handed: backends are third-party code and may quote their input, whole or
// in part. When the message quotes the value (redact.Quotes) it
// is withheld. errors.Is still works; errors.As cannot reach the original.
func scrub(err error, value string) error {
	if err == nil || !redact.Quotes(err.Error(), value) {
		return err
	}
	return &withheldError{err: err}
}

type withheldError struct{ err error }

func (e *withheldError) Error() string {
	return "the keyring refused the value (its message quoted the secret, so it is withheld)"
}

func (e *withheldError) Is(target error) bool { return errors.Is(e.err, target) }

// Remembering returns store with every token it hands out or takes in
// added to secrets.
func Remembering(store Store, secrets *redact.Secrets) Store {
	return &rememberingStore{Store: store, secrets: secrets}
}

type rememberingStore struct {
	Store
	secrets *redact.Secrets
}

func (r *rememberingStore) remember(ts *TokenSet) {
	if ts != nil {
		r.secrets.Add(ts.IDToken, ts.RefreshToken)
	}
}

func (r *rememberingStore) Get(k Key) (*TokenSet, error) {
	ts, err := r.Store.Get(k)
	r.remember(ts)
	return ts, err
}

func (r *rememberingStore) Put(k Key, ts *TokenSet) error {
	r.remember(ts)
	return r.Store.Put(k, ts)
}

func (r *rememberingStore) List() ([]*TokenSet, error) {
	all, err := r.Store.List()
	for _, ts := range all {
		r.remember(ts)
	}
	return all, err
}
