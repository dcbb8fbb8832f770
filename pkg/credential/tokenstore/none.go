package tokenstore

// NoneStore keeps nothing, for CI jobs that must not leave tokens behind:
// every run logs in afresh.
type NoneStore struct{}

func (NoneStore) Kind() string { return "none" }

func (NoneStore) Location() string { return "nowhere (--token-cache none)" }

func (NoneStore) Get(Key) (*TokenSet, error) { return nil, ErrNotFound }

func (NoneStore) Put(Key, *TokenSet) error { return nil }

func (NoneStore) Delete(Key) error { return nil }

func (NoneStore) List() ([]*TokenSet, error) { return nil, nil }
