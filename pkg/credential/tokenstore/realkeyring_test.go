package tokenstore

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestRealKeyring runs the keyring store against this machine's OS keyring.
// With SECUREKAPI_REQUIRE_KEYRING=1 an unreachable keyring fails the test
// (for CI that provides one); otherwise it skips.
func TestRealKeyring(t *testing.T) {
	service := fmt.Sprintf("securekapi-test-%d", os.Getpid())
	store, _, err := Open(SelectKeyring, OpenOptions{Keyring: SystemKeyring(), Service: service, Timeout: 5 * time.Second})
	if err == nil {
		// An explicit keyring choice opens without asking the keyring;
		// ask it here, so a machine without one skips rather than fails.
		err = probe(keyringStore(OpenOptions{Keyring: SystemKeyring(), Service: service, Timeout: 5 * time.Second}))
	}
	if err != nil {
		if os.Getenv("SECUREKAPI_REQUIRE_KEYRING") == "1" {
			t.Fatalf("SECUREKAPI_REQUIRE_KEYRING=1 but: %v", err)
		}
		t.Skipf("no usable OS keyring here (%v); on Linux run under dbus-run-session with gnome-keyring-daemon unlocked", err)
	}
	t.Logf("using %s", store.Location())
	k := Key{Issuer: "https://real-keyring.test", ClientID: "securekapi-test", Scopes: []string{"openid"}}
	t.Cleanup(func() { _ = store.Delete(k) })

	want := bigTokenSet(6 << 10)
	if err := store.Put(k, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	if got.IDToken != want.IDToken || got.RefreshToken != want.RefreshToken || !got.Expiry.Equal(want.Expiry) {
		t.Fatal("token set changed on the way through the OS keyring")
	}
	if runtime.GOOS == "linux" {
		// One entry per token set: a cached read is one Secret Service lookup.
		if _, err := SystemKeyring().Get(service, chunkAccount(k.ID(), "a", 1)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a 6 KB token set was split into chunks on the Secret Service (%v)", err)
		}
	}
	if list, err := store.List(); err != nil || len(list) != 1 {
		t.Fatalf("List = %d entries, %v", len(list), err)
	}
	if err := store.Delete(k); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	// The index entry is left behind (empty); remove it too.
	_ = SystemKeyring().Delete(service, indexAccount)
}
