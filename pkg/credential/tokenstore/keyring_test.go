package tokenstore

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var testKey = Key{Issuer: "https://dex.example.com", ClientID: "kubectl", Scopes: []string{"openid", "email"}}

func bigTokenSet(size int) *TokenSet {
	return &TokenSet{
		IDToken:      "eyJ" + strings.Repeat("i", size/2),
		RefreshToken: "rt-" + strings.Repeat("r", size/2) + "-é-ü", // multi-byte runes near chunk edges
		Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Subject:      "alice",
		Email:        "alice@example.com",
		Groups:       []string{"dev", "ops"},
	}
}

func TestKeyringStoreRoundTripsLargeTokenSet(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	want := bigTokenSet(10 << 10)
	if err := s.Put(testKey, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(testKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.IDToken != want.IDToken || got.RefreshToken != want.RefreshToken || !got.Expiry.Equal(want.Expiry) || got.Email != want.Email {
		t.Fatal("token set changed on the way through the keyring")
	}
	if got.Key().ID() != testKey.ID() {
		t.Fatal("stored token set does not carry its key")
	}
	if n := len(kr.accounts(testKey.ID())); n < 5 {
		t.Fatalf("a 10 KB set should need at least 5 entries of %d bytes, got %d", DefaultChunkSize, n)
	}
	if kr.lastSvc != DefaultService {
		t.Fatalf("service = %q", kr.lastSvc)
	}
}

// A keyring that takes any size (the Secret Service) gets one entry per
// token set, and entries written with another chunk size (an older
// securekapi, or another OS's default) still read back.
func TestKeyringStoreChunkSizeFollowsTheKeyring(t *testing.T) {
	kr := &sizedKeyring{fakeKeyring: newFakeKeyring(), size: 1 << 20}
	kr.limit = 1 << 20
	want := bigTokenSet(10 << 10)
	old := &KeyringStore{Keyring: kr, ChunkSize: 1024}
	if err := old.Put(testKey, want); err != nil {
		t.Fatal(err)
	}
	s := NewKeyringStore(kr)
	got, err := s.Get(testKey)
	if err != nil || got.RefreshToken != want.RefreshToken {
		t.Fatalf("reading 1 KiB chunks with a 1 MiB store: %v", err)
	}
	if err := s.Put(testKey, want); err != nil {
		t.Fatal(err)
	}
	if left := kr.accounts(testKey.ID()); len(left) != 1 {
		t.Fatalf("want one entry on a keyring without a size limit, got %v", left)
	}
	before := kr.gets.Load()
	if _, err := s.Get(testKey); err != nil {
		t.Fatal(err)
	}
	if n := kr.gets.Load() - before; n != 1 {
		t.Fatalf("Get made %d reads, want 1", n)
	}
}

type sizedKeyring struct {
	*fakeKeyring
	size int
}

func (k *sizedKeyring) EntrySize() int { return k.size }

func TestSystemKeyringEntrySize(t *testing.T) {
	got := SystemKeyring().(entrySizer).EntrySize()
	switch runtime.GOOS {
	case "darwin", "windows":
		if got != DefaultChunkSize {
			t.Fatalf("EntrySize = %d on %s", got, runtime.GOOS)
		}
	default:
		if got < 64<<10 {
			t.Fatalf("EntrySize = %d on the Secret Service; token sets should fit one entry", got)
		}
	}
}

func TestKeyringStoreDeleteRemovesAllChunks(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	if err := s.Put(testKey, bigTokenSet(5000)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(testKey); err != nil {
		t.Fatal(err)
	}
	if left := kr.accounts(testKey.ID()); len(left) != 0 {
		t.Fatalf("entries left after Delete: %v", left)
	}
	if _, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := s.Delete(testKey); err != nil {
		t.Fatalf("deleting a missing entry: %v", err)
	}
}

func TestKeyringStoreSmallerValueCleansOldChunks(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	if err := s.Put(testKey, bigTokenSet(8000)); err != nil {
		t.Fatal(err)
	}
	small := &TokenSet{IDToken: "eyJsmall", Expiry: time.Now()}
	if err := s.Put(testKey, small); err != nil {
		t.Fatal(err)
	}
	if left := kr.accounts(testKey.ID()); len(left) != 1 {
		t.Fatalf("want only the head entry, got %v", left)
	}
	got, err := s.Get(testKey)
	if err != nil || got.IDToken != "eyJsmall" {
		t.Fatalf("Get = %v, %v", got, err)
	}
}

func TestKeyringStoreDetectsDamage(t *testing.T) {
	for name, damage := range map[string]func(kr *fakeKeyring){
		"missing middle chunk": func(kr *fakeKeyring) { delete(kr.items, testKey.ID()+"#a2") },
		"tampered chunk":       func(kr *fakeKeyring) { kr.items[testKey.ID()+"#a3"] = strings.Repeat("x", 1024) },
		"head without header":  func(kr *fakeKeyring) { kr.items[testKey.ID()] = `{"id_token":"eyJ"}` },
		"chunk from an older write": func(kr *fakeKeyring) {
			kr.items[testKey.ID()+"#a1"] = strings.Replace(kr.items[testKey.ID()+"#a1"], "i", "j", 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			kr := newFakeKeyring()
			s := &KeyringStore{Keyring: kr, ChunkSize: 1024} // at least four chunks to damage
			if err := s.Put(testKey, bigTokenSet(5000)); err != nil {
				t.Fatal(err)
			}
			damage(kr)
			if _, err := s.Get(testKey); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get = %v, want ErrCorrupt", err)
			}
		})
	}
}

// A write that dies before its head is rewritten leaves the previous
// version readable.
func TestKeyringStoreInterruptedWriteKeepsPreviousVersion(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	old := bigTokenSet(3000)
	if err := s.Put(testKey, old); err != nil {
		t.Fatal(err)
	}
	kr.setErr = func(user, _ string) error {
		if user == testKey.ID() {
			return errors.New("killed")
		}
		return nil
	}
	next := bigTokenSet(4000)
	next.IDToken = "eyJnew"
	if err := s.Put(testKey, next); err == nil {
		t.Fatal("want the write to fail")
	}
	got, err := s.Get(testKey)
	if err != nil || got.IDToken != old.IDToken {
		t.Fatalf("previous version lost: %v", err)
	}
}

func TestKeyringStoreRejectsEntryForAnotherKey(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	other := Key{Issuer: "https://evil.example.com", ClientID: "kubectl"}
	if err := s.Put(other, bigTokenSet(100)); err != nil {
		t.Fatal(err)
	}
	for user, v := range kr.items {
		if strings.HasPrefix(user, other.ID()) {
			kr.items[strings.Replace(user, other.ID(), testKey.ID(), 1)] = v
		}
	}
	if _, err := s.Get(testKey); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrCorrupt", err)
	}
}

func TestKeyringStoreList(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	keys := []Key{testKey, {Issuer: "https://a", ClientID: "x"}, {Issuer: "https://b", ClientID: "y", ExtraParams: map[string]string{"p": "1"}}}
	for _, k := range keys {
		if err := s.Put(k, bigTokenSet(2000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(testKey, bigTokenSet(100)); err != nil { // re-put must not duplicate
		t.Fatal(err)
	}
	if err := s.Delete(keys[1]); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ts := range list {
		ids = append(ids, ts.Key().ID())
	}
	slices.Sort(ids)
	want := []string{testKey.ID(), keys[2].ID()}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("List keys = %v, want %v", ids, want)
	}
}

func TestKeyringStoreManyKeysOutgrowOneIndexEntry(t *testing.T) {
	kr := newFakeKeyring()
	s := &KeyringStore{Keyring: kr, ChunkSize: 200}
	for i := range 20 {
		if err := s.Put(Key{Issuer: "https://i", ClientID: strings.Repeat("c", i+1)}, &TokenSet{IDToken: "eyJ"}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 20 {
		t.Fatalf("List = %d entries, %v", len(list), err)
	}
}

func TestKeyringStoreTooBigForPlatform(t *testing.T) {
	kr := newFakeKeyring()
	kr.limit = 100
	s := NewKeyringStore(kr)
	err := s.Put(testKey, bigTokenSet(3000))
	if err == nil || !strings.Contains(err.Error(), "--token-cache file") {
		t.Fatalf("Put = %v, want an error suggesting the file store", err)
	}
}

func TestSplitKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("aé", 100)
	parts := split(s, 7)
	if strings.Join(parts, "") != s {
		t.Fatal("split lost data")
	}
	for _, p := range parts {
		if len(p) > 7 || !utf8Valid(p) {
			t.Fatalf("bad part %q", p)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// Readers racing a writer see one whole version or ErrCorrupt, never a mix.
func TestKeyringStoreConcurrentReadersNeverSeeAMix(t *testing.T) {
	kr := newFakeKeyring()
	s := NewKeyringStore(kr)
	versions := []*TokenSet{bigTokenSet(3000), bigTokenSet(6000)}
	versions[1].IDToken = "eyJ" + strings.Repeat("v", 3000)
	if err := s.Put(testKey, versions[0]); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if err := s.Put(testKey, versions[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		got, err := s.Get(testKey)
		if errors.Is(err, ErrCorrupt) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.IDToken != versions[0].IDToken && got.IDToken != versions[1].IDToken {
			t.Fatal("read a token set no one wrote")
		}
	}
}

func TestSessionBusCheck(t *testing.T) {
	none := func(string) bool { return false }
	env := func(v string) func(string) string { return func(string) string { return v } }
	if sessionBusCheck("linux", env(""), 1000, none) == nil {
		t.Error("no bus anywhere: want an error, not a dbus-launch")
	}
	if sessionBusCheck("linux", env("autolaunch:"), 1000, none) == nil {
		t.Error("autolaunch: would start a daemon")
	}
	if err := sessionBusCheck("linux", env("unix:path=/run/user/1000/bus"), 1000, none); err != nil {
		t.Error(err)
	}
	if err := sessionBusCheck("linux", env(""), 1000, func(p string) bool { return p == "/run/user/1000/bus" }); err != nil {
		t.Error(err)
	}
	if err := sessionBusCheck("darwin", env(""), 501, none); err != nil {
		t.Error(err)
	}
}
