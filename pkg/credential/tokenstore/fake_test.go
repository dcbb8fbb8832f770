package tokenstore

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// fakeKeyring is an in-memory keyring that, like Windows, refuses values
// over a size limit.
type fakeKeyring struct {
	mu      sync.Mutex
	items   map[string]string // user -> password (one service is enough)
	limit   int
	getErr  error
	setErr  func(user, password string) error
	hang    bool
	lastSvc string
	gets    atomic.Int64
}

func newFakeKeyring() *fakeKeyring {
	return &fakeKeyring{items: map[string]string{}, limit: 2560}
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	f.gets.Add(1)
	if f.hang {
		time.Sleep(time.Hour)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastSvc = service
	if f.getErr != nil {
		return "", f.getErr
	}
	v, ok := f.items[user]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Set(service, user, password string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		if err := f.setErr(user, password); err != nil {
			return err
		}
	}
	if len(password) > f.limit {
		return gokeyring.ErrSetDataTooBig
	}
	f.items[user] = password
	return nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[user]; !ok {
		return ErrNotFound
	}
	delete(f.items, user)
	return nil
}

// accounts lists the stored accounts that start with prefix.
func (f *fakeKeyring) accounts(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for user := range f.items {
		if strings.HasPrefix(user, prefix) {
			out = append(out, user)
		}
	}
	return out
}

func (f *fakeKeyring) String() string { return "fake keyring" }
