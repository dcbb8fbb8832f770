package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"slices"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/securekapi/securekapi/pkg/credential/tokenstore/secretservice"
)

// Keyring is the slice of an OS keyring this package needs. Get returns
// ErrNotFound (this package's) for a missing entry.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// SystemKeyring is the OS keyring through github.com/zalando/go-keyring.
// On the Secret Service (Linux and the BSDs) reads go through package
// secretservice first, which finds go-keyring's entries in two D-Bus round
// trips instead of go-keyring's twelve; go-keyring reads whatever it
// cannot (a locked collection, which needs go-keyring's unlock prompt, a
// bus address it does not dial) and writes everything.
func SystemKeyring() Keyring {
	k := systemKeyring{busCheck: func() error {
		return sessionBusCheck(runtime.GOOS, os.Getenv, os.Getuid(), fileExists)
	}}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		k.quickGet = func(service, user string) (string, error) {
			bus := secretservice.Bus{Address: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), UID: os.Getuid(), Timeout: DefaultKeyringTimeout}
			return secretservice.Get(bus, service, user)
		}
	}
	return k
}

type systemKeyring struct {
	busCheck func() error
	// quickGet reads an entry as go-keyring does, faster; nil where there
	// is none.
	quickGet func(service, user string) (string, error)
}

func (k systemKeyring) Get(service, user string) (string, error) {
	if err := k.busCheck(); err != nil {
		return "", err
	}
	if k.quickGet != nil {
		v, err := k.quickGet(service, user)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, secretservice.ErrNotFound):
			return "", ErrNotFound
		}
		// Anything else is go-keyring's to read, or to explain.
	}
	v, err := gokeyring.Get(service, user)
	return v, mapKeyringErr(err)
}

func (k systemKeyring) Set(service, user, password string) error {
	if err := k.busCheck(); err != nil {
		return err
	}
	return mapKeyringErr(gokeyring.Set(service, user, password))
}

func (k systemKeyring) Delete(service, user string) error {
	if err := k.busCheck(); err != nil {
		return err
	}
	return mapKeyringErr(gokeyring.Delete(service, user))
}

// sessionBusCheck fails when the Secret Service has no D-Bus session bus to
// answer on. Without this, godbus runs dbus-launch, and on a headless
// machine every kubectl call would leave a new bus daemon behind. It finds
// the bus the way godbus does, minus the launch.
func sessionBusCheck(goos string, getenv func(string) string, uid int, exists func(string) bool) error {
	if goos == "darwin" || goos == "windows" {
		return nil
	}
	if addr := getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return nil
	}
	// A Linux path, so path (not filepath) joins it on every OS.
	dir := fmt.Sprintf("/run/user/%d", uid)
	if exists(path.Join(dir, "bus")) || exists(path.Join(dir, "dbus-session")) {
		return nil
	}
	return errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service to ask")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// EntrySize is one entry's share of a token set on this OS.
func (systemKeyring) EntrySize() int {
	switch runtime.GOOS {
	case "darwin", "windows":
		return DefaultChunkSize
	default:
		return secretServiceEntrySize
	}
}

// String names the backend for Location.
func (systemKeyring) String() string {
	switch runtime.GOOS {
	case "darwin":
		return "OS keyring (macOS Keychain)"
	case "windows":
		return "OS keyring (Windows Credential Manager)"
	default:
		return "OS keyring (Secret Service)"
	}
}

func mapKeyringErr(err error) error {
	if errors.Is(err, gokeyring.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// DefaultService is the keyring service name entries are filed under.
const DefaultService = "securekapi"

// DefaultChunkSize is how many bytes of JSON go into one keyring entry when
// the keyring does not say (see entrySizer). Windows caps a credential blob
// at 2560 bytes and macOS caps the whole `security` command (service,
// account, base64 of the secret) at 4096; 2048 bytes plus a ~110-byte header
// stays under both, and a typical token set (1-3 KB) needs one or two
// entries.
const DefaultChunkSize = 2048

// secretServiceEntrySize is the chunk size on the Secret Service, which has
// no size limit of its own: every token set fits one entry, so a read is one
// lookup. Each lookup is half a dozen D-Bus round trips, on every kubectl
// call.
const secretServiceEntrySize = 1 << 20

// entrySizer is a keyring that knows how much one entry should carry.
type entrySizer interface{ EntrySize() int }

// entrySize is kr's chunk size: its own when it knows, else the portable
// default.
func entrySize(kr Keyring) int {
	if s, ok := kr.(entrySizer); ok && s.EntrySize() > 0 {
		return s.EntrySize()
	}
	return DefaultChunkSize
}

// indexAccount lists the stored key IDs, because keyrings cannot be
// enumerated portably.
const indexAccount = "index"

// KeyringStore keeps token sets in the OS keyring, one chunked entry per key.
type KeyringStore struct {
	Keyring   Keyring
	Service   string // default DefaultService
	ChunkSize int    // default: what the keyring says, else DefaultChunkSize
}

// NewKeyringStore returns a store with the default service and the
// keyring's chunk size.
func NewKeyringStore(kr Keyring) *KeyringStore { return &KeyringStore{Keyring: kr} }

func (s *KeyringStore) Kind() string { return "keyring" }

func (s *KeyringStore) Location() string {
	name := "OS keyring"
	if str, ok := s.Keyring.(fmt.Stringer); ok {
		name = str.String()
	}
	return fmt.Sprintf("%s, service %s", name, s.service())
}

func (s *KeyringStore) Get(k Key) (*TokenSet, error) {
	ts, err := s.get(k.ID())
	if err != nil {
		return nil, err
	}
	if err := checkKey(ts, k, "keyring entry "+k.ID()); err != nil {
		return nil, err
	}
	return ts, nil
}

func (s *KeyringStore) get(id string) (*TokenSet, error) {
	data, err := s.chunks().read(id)
	if err != nil {
		return nil, err
	}
	return decodeTokenSet(data, "keyring entry "+id)
}

func (s *KeyringStore) Put(k Key, t *TokenSet) error {
	data, err := json.Marshal(stamped(k, t))
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	if err := s.chunks().write(k.ID(), data); err != nil {
		return err
	}
	return s.updateIndex(func(ids []string) []string {
		if slices.Contains(ids, k.ID()) {
			return nil
		}
		return append(ids, k.ID())
	})
}

func (s *KeyringStore) Delete(k Key) error {
	if err := s.chunks().remove(k.ID()); err != nil {
		return err
	}
	return s.updateIndex(func(ids []string) []string {
		if !slices.Contains(ids, k.ID()) {
			return nil
		}
		return slices.DeleteFunc(ids, func(id string) bool { return id == k.ID() })
	})
}

func (s *KeyringStore) List() ([]*TokenSet, error) {
	ids, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	return readAll(ids, s.get)
}

// readIndex returns the stored key IDs. A corrupt index is treated as empty:
// it only feeds List, and the next Put rewrites it.
func (s *KeyringStore) readIndex() ([]string, error) {
	data, err := s.chunks().read(indexAccount)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	if json.Unmarshal(data, &ids) != nil {
		return nil, nil
	}
	return ids, nil
}

// updateIndex rewrites the index when change returns a new list (nil means
// no change). Two processes adding different keys at once can lose one
// entry; that only hides it from List, never from Get.
func (s *KeyringStore) updateIndex(change func([]string) []string) error {
	ids, err := s.readIndex()
	if err != nil {
		return err
	}
	next := change(ids)
	if next == nil {
		return nil
	}
	data, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("encode the keyring index: %w", err)
	}
	return s.chunks().write(indexAccount, data)
}

func (s *KeyringStore) chunks() *chunkedKeyring {
	size := s.ChunkSize
	if size <= 0 {
		size = entrySize(s.Keyring)
	}
	return &chunkedKeyring{kr: s.Keyring, service: s.service(), size: size}
}

func (s *KeyringStore) service() string {
	if s.Service == "" {
		return DefaultService
	}
	return s.Service
}
