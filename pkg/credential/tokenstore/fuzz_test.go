package tokenstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzChunks: keyring entries are outside input (any process of the user
// can edit them). A value written in chunks of any size reads back exactly
// (or, if it needs more entries than a header may name, is refused and the
// old value stays), an overwrite leaves no chunk of the old version behind, and a read of
// arbitrary head and chunk entries never panics, yields only a value whose
// checksum the header names, and fails with ErrCorrupt without quoting
// what it read.
func FuzzChunks(f *testing.F) {
	sum := checksum("headtail")
	f.Add([]byte(`{"id_token":"eyJ.x.y"}`), []byte("second"), uint8(4), headerMagic+" slot=a n=2 sha256="+sum+"\nhead", "tail")
	f.Add([]byte("é€𝄞 multi-byte"), []byte(""), uint8(0), headerMagic+" slot=b n=2 sha256="+sum+"\nhead", "tail")
	f.Add([]byte("x"), []byte(strings.Repeat("y", 300)), uint8(1), headerMagic+" slot=a n=1000 sha256="+sum+"\nhead", "tail")
	f.Add([]byte(""), []byte("z"), uint8(255), headerMagic+" slot=c n=1 sha256="+sum+"\nheadtail", "")
	f.Add([]byte("a"), []byte("b"), uint8(2), headerMagic+" slot=a n=1 sha256="+sum+"trailing\nheadtail", "")
	f.Add([]byte("a"), []byte("b"), uint8(2), "no header at all, SECRET-TOKEN=abc", "SECRET-CHUNK=def")
	f.Fuzz(func(t *testing.T, first, second []byte, size uint8, head, chunk string) {
		kr := newFakeKeyring()
		kr.limit = 1 << 20
		c := &chunkedKeyring{kr: kr, service: "fuzz", size: int(size)%64 + 1}
		var kept []byte // what the keyring holds, once stored
		stored := false
		for _, want := range [][]byte{first, second} {
			if err := c.write("acct", want); err != nil {
				if len(split(string(want), c.size)) <= maxChunks {
					t.Fatalf("write %q in chunks of %d: %v", want, c.size, err)
				}
				// Too many chunks for one header: refused, and the value
				// stored before is still there.
				if got, err := c.read("acct"); stored == errors.Is(err, ErrNotFound) || !bytes.Equal(got, kept) {
					t.Fatalf("a refused write left %q, %v; want the previous value %q", got, err, kept)
				}
				continue
			}
			kept, stored = want, true
			got, err := c.read("acct")
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read back %q, %v; wrote %q in chunks of %d", got, err, want, c.size)
			}
			h, _ := headerOf(kr.items["acct"])
			if n := len(kr.accounts("acct#")); n != h.n-1 {
				t.Fatalf("%d chunk entries stored for a value of %d entries: %v", n, h.n, kr.accounts("acct#"))
			}
		}

		hostile := newFakeKeyring()
		hostile.items["acct"] = head
		for _, slot := range []string{"a", "b"} {
			for i := 1; i <= 2; i++ {
				hostile.items[chunkAccount("acct", slot, i)] = chunk
			}
		}
		h := &chunkedKeyring{kr: hostile, service: "fuzz", size: 16}
		data, err := h.read("acct")
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("hostile entry read fails with %v, want ErrCorrupt", err)
			}
			_, firstChunk, _ := strings.Cut(head, "\n")
			for _, v := range []string{head, firstChunk, chunk} {
				if looksSecret(v) && strings.Contains(err.Error(), v) {
					t.Fatalf("error quotes the entry: %v", err)
				}
			}
			return
		}
		hdr, ok := headerOf(head)
		if !ok || checksum(string(data)) != hdr.sum {
			t.Fatalf("read %q from a head whose header (%+v, ok=%v) does not vouch for it", data, hdr, ok)
		}
	})
}

// looksSecret is true for values long and token-like enough that finding
// them in an error means the error quoted the entry (the fixed error texts
// are lower case words).
func looksSecret(v string) bool {
	return len(v) >= 12 && strings.ContainsAny(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ=_-+/")
}

// FuzzStoredEntry: whatever bytes sit in a token file or keyring entry, Get
// never panics; it returns a token set only if it has an ID token and was
// stored for the key asked for; otherwise ErrCorrupt with one of the fixed
// texts, which name the entry and never quote it. List skips entries that
// do not decode.
func FuzzStoredEntry(f *testing.F) {
	k := Key{Issuer: "https://dex.example", ClientID: "kubectl", Scopes: []string{"openid"}}
	good, _ := json.Marshal(stamped(k, &TokenSet{IDToken: "eyJ.a.b", RefreshToken: "rt", Expiry: time.Unix(1700000000, 0)}))
	other, _ := json.Marshal(stamped(Key{Issuer: "https://evil.example", ClientID: "kubectl"}, &TokenSet{IDToken: "eyJ.a.b"}))
	for _, seed := range []string{string(good), string(other), `{"id_token":""}`, `{"id_token":"x","issuer":"https://dex.example","client_id":"kubectl","scopes":["openid","openid"]}`,
		`{"id_token":"SECRET-TOKEN-abcdef","expiry":"not a time"}`, `{"id_token":7}`, `null`, ``, `[]`, "{\"id_token\":\"\xff\"}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		files, err := NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(files.path(k), data, 0o600); err != nil {
			t.Fatal(err)
		}
		kr := newFakeKeyring()
		kr.limit = 1 << 20
		keyring := &KeyringStore{Keyring: kr, ChunkSize: 1 << 20}
		if err := keyring.chunks().write(k.ID(), data); err != nil {
			t.Fatal(err)
		}
		if err := keyring.chunks().write(indexAccount, []byte(`["`+k.ID()+`"]`)); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			store Store
			where string
		}{{files, "token file " + files.path(k)}, {keyring, "keyring entry " + k.ID()}} {
			ts, err := s.store.Get(k)
			list, lerr := s.store.List()
			if lerr != nil {
				t.Fatalf("%s List: %v", s.store.Kind(), lerr)
			}
			if err != nil {
				if ts != nil || !errors.Is(err, ErrCorrupt) || !isFixedEntryError(err.Error(), s.where) {
					t.Fatalf("%s Get = %+v, %q: want ErrCorrupt with a fixed text", s.store.Kind(), ts, err)
				}
				// List shows entries of every key, so only an undecodable
				// one must be missing from it.
				if !strings.Contains(err.Error(), "another issuer") && len(list) != 0 {
					t.Fatalf("%s List returned %d entries that do not decode", s.store.Kind(), len(list))
				}
				continue
			}
			if ts.IDToken == "" || ts.Key().ID() != k.ID() {
				t.Fatalf("%s Get returned %+v for key %v", s.store.Kind(), ts, k)
			}
		}
	})
}

func isFixedEntryError(msg, where string) bool {
	for _, why := range []string{"is not a readable token set", "holds no ID token", "holds tokens for another issuer or client"} {
		if msg == where+" "+why+": "+ErrCorrupt.Error() {
			return true
		}
	}
	return false
}

// FuzzTokenSetRoundTrip: whatever a login yields and whatever key it is
// stored under, both stores give back what Put was given, stamped with its
// key, including when the keyring splits it into many small chunks.
func FuzzTokenSetRoundTrip(f *testing.F) {
	f.Add("eyJ.a.b", "rt-1", "a@example.com", "admins", "https://dex.example", "kubectl", "openid email", "prompt", "consent", int64(1700000000), uint8(7))
	f.Add("é", "", "", "", "", "", "", "", "", int64(-1), uint8(0))
	// Found by CI: a value too large for the keyring's chunk limit.
	f.Add(strings.Repeat("x", 22000), "", "", "", "", "", "", "", "", int64(0), uint8(13))
	f.Fuzz(func(t *testing.T, id, refresh, email, group, issuer, clientID, scopes, param, value string, expiry int64, chunk uint8) {
		for _, s := range []string{id, refresh, email, group, issuer, clientID, scopes, param, value} {
			if !utf8.ValidString(s) {
				t.Skip("JSON carries text; tokens and claims are ASCII")
			}
		}
		if id == "" {
			t.Skip("a login always yields an ID token")
		}
		k := Key{Issuer: issuer, ClientID: clientID, Scopes: strings.Fields(scopes)}
		if param != "" {
			k.ExtraParams = map[string]string{param: value}
		}
		in := &TokenSet{IDToken: id, RefreshToken: refresh, Email: email, Expiry: time.Unix(expiry%(1<<40), 0).UTC()}
		if group != "" {
			in.Groups = []string{group, group + "2"}
		}
		want, _ := json.Marshal(stamped(k, in))

		files, err := NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		kr := newFakeKeyring()
		kr.limit = 1 << 20
		chunkSize := int(chunk)%32 + 1
		for _, s := range []Store{files, &KeyringStore{Keyring: kr, ChunkSize: chunkSize}} {
			if _, isKeyring := s.(*KeyringStore); isKeyring && len(split(string(want), chunkSize)) > maxChunks {
				// More chunks than one header may name: refused with the
				// way out, and nothing half-stored.
				err := s.Put(k, in)
				if err == nil || !strings.Contains(err.Error(), "use --token-cache file") {
					t.Fatalf("keyring Put of %d bytes in chunks of %d = %v; want the too-large refusal", len(want), chunkSize, err)
				}
				if _, err := s.Get(k); !errors.Is(err, ErrNotFound) {
					t.Fatalf("keyring Get after a refused Put = %v; want ErrNotFound", err)
				}
				if list, err := s.List(); err != nil || len(list) != 0 {
					t.Fatalf("keyring List after a refused Put = %d entries, %v; want none", len(list), err)
				}
				continue
			}
			if err := s.Put(k, in); err != nil {
				t.Fatalf("%s Put: %v", s.Kind(), err)
			}
			out, err := s.Get(k)
			if err != nil {
				t.Fatalf("%s Get after Put: %v", s.Kind(), err)
			}
			if got, _ := json.Marshal(out); !bytes.Equal(got, want) {
				t.Fatalf("%s round trip:\nput %s\ngot %s", s.Kind(), want, got)
			}
			list, err := s.List()
			if err != nil || len(list) != 1 || list[0].Key().ID() != k.ID() {
				t.Fatalf("%s List = %d entries, %v; want the one put", s.Kind(), len(list), err)
			}
		}
	})
}
