//go:build unix && !darwin

package secretservice

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"
)

// The tests run against a real gnome-keyring on a private session bus of
// their own (the shared one of scripts/with-keyring.sh serves other
// packages' tests, and TestLockedItemIsLeftToGoKeyring locks this one).
// go-keyring writes, as the full CLI does; Get must read back exactly what
// go-keyring's own Get reads.

var privateBus string

func TestMain(m *testing.M) {
	stop, err := startPrivateKeyring()
	if err != nil {
		if os.Getenv("SECUREKAPI_REQUIRE_KEYRING") == "1" {
			fmt.Fprintf(os.Stderr, "SECUREKAPI_REQUIRE_KEYRING=1 but: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "secretservice: skipping the real keyring tests: %v\n", err)
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

func startPrivateKeyring() (func(), error) {
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s: %v (apt-get install -y gnome-keyring dbus-x11)", bin, err)
		}
	}
	out, err := exec.Command("dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1").Output()
	if err != nil {
		return nil, fmt.Errorf("start a D-Bus session bus: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return nil, fmt.Errorf("dbus-daemon printed %q", out)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil {
		return nil, err
	}
	stop := func() { _ = syscall.Kill(pid, syscall.SIGTERM) }
	data, err := os.MkdirTemp("", "secretservice-test")
	if err != nil {
		stop()
		return nil, err
	}
	// godbus reads the address when it first connects; set it before.
	os.Setenv("DBUS_SESSION_BUS_ADDRESS", f[0])
	os.Setenv("XDG_DATA_HOME", data)
	cmd := exec.Command("gnome-keyring-daemon", "--unlock", "--components=secrets")
	cmd.Stdin = strings.NewReader("secretservice-test")
	if out, err := cmd.CombinedOutput(); err != nil {
		stop()
		return nil, fmt.Errorf("gnome-keyring-daemon: %v\n%s", err, out)
	}
	privateBus = f[0]
	return func() { stop(); _ = os.RemoveAll(data) }, nil
}

func bus(t *testing.T) Bus {
	t.Helper()
	if privateBus == "" {
		t.Skip("no private gnome-keyring")
	}
	return Bus{Address: privateBus, UID: os.Getuid(), Timeout: 5 * time.Second}
}

func TestGetReadsWhatGoKeyringWrote(t *testing.T) {
	b := bus(t)
	service := fmt.Sprintf("securekapi-ss-test-%d", os.Getpid())
	values := map[string]string{
		"small":   "securekapi-chunks v1 slot=a n=1 sha256=00\n{\"id_token\":\"x\"}",
		"unicode": "é ✓ \x01 \"quoted\"",
		"large":   strings.Repeat("0123456789abcdef", 64<<10/16), // 64 KiB: several socket reads
	}
	for user, v := range values {
		if err := gokeyring.Set(service, user, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gokeyring.Delete(service, user) })
	}
	for user, want := range values {
		got, err := Get(b, service, user)
		if err != nil {
			t.Fatalf("Get(%s): %v", user, err)
		}
		viaGoKeyring, err := gokeyring.Get(service, user)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || got != viaGoKeyring {
			t.Errorf("Get(%s) = %d bytes, go-keyring wrote %d and reads %d", user, len(got), len(want), len(viaGoKeyring))
		}
	}
	// Overwritten as go-keyring overwrites (replace): the new value.
	if err := gokeyring.Set(service, "small", "second"); err != nil {
		t.Fatal(err)
	}
	if got, err := Get(b, service, "small"); err != nil || got != "second" {
		t.Errorf("after go-keyring replaced it: %q, %v", got, err)
	}
}

func TestGetMissingIsNotFound(t *testing.T) {
	b := bus(t)
	service := fmt.Sprintf("securekapi-ss-test-missing-%d", os.Getpid())
	if err := gokeyring.Set(service, "alice", "a"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gokeyring.Delete(service, "alice") })
	for _, c := range [][2]string{{service, "bob"}, {service + "-other", "alice"}, {"", ""}} {
		if _, err := Get(b, c[0], c[1]); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v, want ErrNotFound (as go-keyring: %v)", c[0], c[1], err, func() error { _, e := gokeyring.Get(c[0], c[1]); return e }())
		}
	}
}

func TestGetUnreachableBusFails(t *testing.T) {
	for _, addr := range []string{"unix:path=/nonexistent/bus", "tcp:host=127.0.0.1,port=1", "unix:path=%zz"} {
		if _, err := Get(Bus{Address: addr, UID: os.Getuid(), Timeout: time.Second}, "s", "u"); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get over %q = %v, want an error that is not ErrNotFound", addr, err)
		}
	}
}

// TestLockedItemIsLeftToGoKeyring: a locked collection still lists its
// items, but their secrets need an unlock prompt, which only go-keyring
// shows; Get must fail (not return nothing, not report ErrNotFound).
// It runs last: nothing unlocks the collection again.
func TestLockedItemIsLeftToGoKeyring(t *testing.T) {
	b := bus(t)
	service := fmt.Sprintf("securekapi-ss-test-locked-%d", os.Getpid())
	if err := gokeyring.Set(service, "alice", "secret"); err != nil {
		t.Fatal(err)
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := conn.Object(serviceName, servicePath).Call(serviceIface+".Lock", 0, []dbus.ObjectPath{loginPath}).Store(&locked, &prompt); err != nil || len(locked) != 1 {
		t.Fatalf("lock the login collection: %v (locked %v)", err, locked)
	}
	for _, user := range []string{"alice", "bob"} { // stored, and not: go-keyring would prompt for both
		got, err := Get(b, service, user)
		if !errors.Is(err, ErrLocked) || got != "" {
			t.Fatalf("Get(%s) from a locked collection = %q, %v; want ErrLocked", user, got, err)
		}
	}
}
