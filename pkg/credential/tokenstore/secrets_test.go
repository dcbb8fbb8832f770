package tokenstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/credential/redact"
)

const (
	secretID      = "eyJSECRETIDTOKEN0123456789"
	secretRefresh = "SECRETREFRESHTOKEN0123456789"
)

func secretSet() *TokenSet {
	return &TokenSet{IDToken: secretID + strings.Repeat("x", 3000), RefreshToken: secretRefresh}
}

// Every error path of the stores, fed data that holds tokens, must keep the
// tokens out of the error text.
func TestErrorsNeverContainTokens(t *testing.T) {
	for name, run := range map[string]func(t *testing.T) error{
		"keyring Set echoes a chunk": func(t *testing.T) error {
			return keyringPutEchoing(t, func(user string) bool { return user != testKey.ID() })
		},
		"keyring Set echoes the head": func(t *testing.T) error {
			return keyringPutEchoing(t, func(user string) bool { return user == testKey.ID() })
		},
		"keyring value too big": func(t *testing.T) error {
			kr := newFakeKeyring()
			kr.limit = 10
			return NewKeyringStore(kr).Put(testKey, secretSet())
		},
		"keyring head without header": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) { kr.items[testKey.ID()] = `{"id_token":"` + secretID + `"}` })
		},
		"keyring checksum mismatch": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) { kr.items[testKey.ID()+"#a1"] = secretID + secretRefresh })
		},
		"keyring missing chunk": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) { delete(kr.items, testKey.ID()+"#a2") })
		},
		"keyring undecodable JSON": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) { storeRaw(kr, `{"id_token":"`+secretID+`",`) })
		},
		"keyring token in the expiry": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) { storeRaw(kr, `{"id_token":"x","expiry":"`+secretID+`"}`) })
		},
		"keyring wrong key": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) {
				storeRaw(kr, `{"id_token":"`+secretID+`","issuer":"https://evil"}`)
			})
		},
		"keyring read fails": func(t *testing.T) error {
			return keyringGet(t, func(kr *fakeKeyring) { kr.getErr = errors.New("dbus: connection closed") })
		},
		"file undecodable JSON": func(t *testing.T) error {
			return fileGet(t, `{"id_token":"`+secretID+``)
		},
		"file token in the expiry": func(t *testing.T) error {
			return fileGet(t, `{"id_token":"x","refresh_token":"`+secretRefresh+`","expiry":"`+secretID+`"}`)
		},
		"file wrong key": func(t *testing.T) error {
			return fileGet(t, `{"id_token":"`+secretID+`","issuer":"https://evil"}`)
		},
		"file write fails": func(t *testing.T) error {
			dir := t.TempDir()
			s, _ := NewFileStore(dir)
			// A non-empty directory where the file goes makes the rename fail, even for root.
			_ = os.MkdirAll(filepath.Join(dir, testKey.ID()+".json", "x"), 0o700)
			return s.Put(testKey, secretSet())
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(t)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, secret := range []string{secretID, secretRefresh, "SECRET"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error text carries a token: %v", err)
				}
			}
		})
	}
}

// keyringPutEchoing stores a token set in a keyring whose Set fails, quoting
// the secret it was handed, for the accounts fail picks that hold a token.
func keyringPutEchoing(t *testing.T, fail func(user string) bool) error {
	kr := newFakeKeyring()
	kr.setErr = func(user, pw string) error {
		if fail(user) && strings.Contains(pw, "SECRET") {
			return fmt.Errorf("backend refused %s / %q", pw, pw)
		}
		return nil
	}
	return NewKeyringStore(kr).Put(testKey, secretSet())
}

// keyringGet stores a token set, damages the keyring, and reads it back.
func keyringGet(t *testing.T, damage func(kr *fakeKeyring)) error {
	kr := newFakeKeyring()
	s := &KeyringStore{Keyring: kr, ChunkSize: 1024} // several chunks to damage
	if err := s.Put(testKey, secretSet()); err != nil {
		t.Fatal(err)
	}
	damage(kr)
	_, err := s.Get(testKey)
	return err
}

// storeRaw writes value as a valid one-entry head, so only decoding fails.
func storeRaw(kr *fakeKeyring, value string) {
	c := &chunkedKeyring{kr: kr, service: DefaultService, size: DefaultChunkSize}
	_ = c.write(testKey.ID(), []byte(value))
}

func fileGet(t *testing.T, content string) error {
	dir := t.TempDir()
	s, _ := NewFileStore(dir)
	if err := os.WriteFile(filepath.Join(dir, testKey.ID()+".json"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Get(testKey)
	return err
}

// TestRememberingStoreFeedsSecrets: every token read from or written to
// the store is redacted from what the process prints afterwards.
func TestRememberingStoreFeedsSecrets(t *testing.T) {
	var secrets redact.Secrets
	store := Remembering(tempFileStore(t), &secrets)
	if err := store.Put(testKey, &TokenSet{IDToken: secretID, RefreshToken: "rt-" + secretRefresh}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(secrets.Writer(&b), "log: %s %s", secretID, secretRefresh)
	if b.String() != "log: "+redact.Redacted+" "+redact.Redacted {
		t.Fatalf("writer printed %q", b.String())
	}
	var none *redact.Secrets
	if none.Redact("x "+secretID) != "x "+secretID {
		t.Error("a nil Secrets changed text")
	}
}

func tempFileStore(t *testing.T) Store {
	t.Helper()
	s, err := NewFileStore(filepath.Join(t.TempDir(), "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
