package tokenstore

import (
	"fmt"
	"sync"
	"time"
)

// DefaultKeyringTimeout bounds every keyring call. A D-Bus call with no
// Secret Service behind it, or one waiting on an unlock prompt nobody
// answers, can hang for minutes, and kubectl waits on the credential plugin.
const DefaultKeyringTimeout = 3 * time.Second

// boundedKeyring gives up on a keyring call after a timeout. The call is
// left running in its goroutine, which a short-lived plugin process can
// afford; after one timeout every later call fails at once, so a store
// reading several entries does not wait once per entry.
type boundedKeyring struct {
	kr      Keyring
	timeout time.Duration

	mu    sync.Mutex
	stuck error
}

func newBoundedKeyring(kr Keyring, timeout time.Duration) *boundedKeyring {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &boundedKeyring{kr: kr, timeout: timeout}
}

func (b *boundedKeyring) Get(service, user string) (string, error) {
	return bounded(b, func() (string, error) { return b.kr.Get(service, user) })
}

func (b *boundedKeyring) Set(service, user, password string) error {
	_, err := bounded(b, func() (struct{}, error) { return struct{}{}, b.kr.Set(service, user, password) })
	return err
}

func (b *boundedKeyring) Delete(service, user string) error {
	_, err := bounded(b, func() (struct{}, error) { return struct{}{}, b.kr.Delete(service, user) })
	return err
}

// String names the wrapped backend for Location.
func (b *boundedKeyring) String() string {
	if s, ok := b.kr.(fmt.Stringer); ok {
		return s.String()
	}
	return "OS keyring"
}

// EntrySize passes on the wrapped backend's entry size.
func (b *boundedKeyring) EntrySize() int { return entrySize(b.kr) }

type result[T any] struct {
	v   T
	err error
}

// bounded runs op under b's timeout. A late op sends its result into a
// buffered channel nobody reads, so it never blocks and never races.
func bounded[T any](b *boundedKeyring, op func() (T, error)) (T, error) {
	var zero T
	b.mu.Lock()
	stuck := b.stuck
	b.mu.Unlock()
	if stuck != nil {
		return zero, stuck
	}
	done := make(chan result[T], 1)
	go func() {
		v, err := op()
		done <- result[T]{v, err}
	}()
	timer := time.NewTimer(b.timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		err := fmt.Errorf("no answer within %s; is the keyring running and unlocked? (Linux needs a Secret Service such as gnome-keyring or KeePassXC)", b.timeout)
		b.mu.Lock()
		b.stuck = err
		b.mu.Unlock()
		return zero, err
	}
}
