package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// gnomeKeyringLostLogin tells go-keyring's report that the shared
// gnome-keyring, for a moment, listed no login collection: go-keyring then
// falls back to the default alias, which resolved to nothing either. It
// happened once in CI, to one of TestTunnelInterop's five parallel logins
// (the other four passed), and never in
// about 6,000 parallel writes from 5 to 8 processes on this machine. It is
// the daemon's, not ours: a locked keyring names collection/login instead,
// and a locked or missing keyring still fails the tests that test it. So
// browserLogin logs in once more, after logging what the daemon said.
// The daemon's abort itself (GNOME/gnome-keyring#190, 'assertion client
// failed') reaches the writer as a call the bus says went unanswered: CI
// failed so once on 2026-12-07, in the same parallel logins; D-Bus then
// activates a fresh daemon for the second try.
func gnomeKeyringLostLogin(stderr string) bool {
	return strings.Contains(stderr, "failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'") ||
		strings.Contains(stderr, "Message recipient disconnected from message bus without replying")
}

// keyringLogTail is the end of the shared gnome-keyring-daemon's log, which
// scripts/with-keyring.sh keeps.
func keyringLogTail() string {
	data, err := os.ReadFile(os.Getenv("SECUREKAPI_KEYRING_LOG"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// privateKeyring is a D-Bus session bus with its own gnome-keyring, for a
// test that locks the keyring: the shared one serves every other test.
type privateKeyring struct {
	env      []string // DBUS_SESSION_BUS_ADDRESS and XDG_DATA_HOME
	password string
}

func startPrivateKeyring(t *testing.T) *privateKeyring {
	t.Helper()
	for _, bin := range []string{"dbus-daemon", "dbus-send", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s: %v (apt-get install -y gnome-keyring dbus-x11)", bin, err)
		}
	}
	out, err := exec.Command("dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1").Output()
	if err != nil {
		t.Fatalf("start a D-Bus session bus: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		t.Fatalf("dbus-daemon printed %q, want the address and the pid", out)
	}
	pid, err := strconv.Atoi(lines[1])
	if err != nil {
		t.Fatalf("dbus-daemon pid %q: %v", lines[1], err)
	}
	// gnome-keyring-daemon leaves when its bus does.
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGTERM) })
	k := &privateKeyring{
		env:      []string{"DBUS_SESSION_BUS_ADDRESS=" + lines[0], "XDG_DATA_HOME=" + t.TempDir()},
		password: "locked-keyring-test",
	}
	k.unlock(t, false)
	return k
}

// unlock starts gnome-keyring with the login keyring unlocked, or, with
// replace, swaps the running daemon for one that unlocks it again: the
// Secret Service API has no password-based unlock, only a GUI prompt.
func (k *privateKeyring) unlock(t *testing.T, replace bool) {
	t.Helper()
	args := []string{"--unlock", "--components=secrets"}
	if replace {
		args = append(args, "--replace")
	}
	cmd := exec.Command("gnome-keyring-daemon", args...)
	cmd.Env = append(os.Environ(), k.env...)
	cmd.Stdin = strings.NewReader(k.password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gnome-keyring-daemon %v: %v\n%s", args, err, out)
	}
}

// lock locks the login collection, as a screen lock or `Lock` in Seahorse
// does.
func (k *privateKeyring) lock(t *testing.T) {
	t.Helper()
	cmd := exec.Command("dbus-send", "--session", "--dest=org.freedesktop.secrets", "--type=method_call", "--print-reply",
		"/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login")
	cmd.Env = append(os.Environ(), k.env...)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "collection/login") {
		t.Fatalf("lock the keyring: %v\n%s", err, out)
	}
}

// TestLockedKeyring: with the keyring locked, kubectl gets a clear error
// that says to unlock it, nothing on stdout, and no token falls back to
// disk; once it is unlocked the same cached token works again, without a
// new login.
func TestLockedKeyring(t *testing.T) {
	kr := startPrivateKeyring(t)
	se := newSession(t, stack.Reader)
	se.Env = append(se.Env, kr.env...)
	ctx := context.Background()
	if r := se.Securekapi(ctx, "use", "e2e", "--token-cache", "keyring"); r.Err != nil {
		t.Fatalf("use --token-cache keyring: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se, "--token-cache", "keyring")
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami before locking = %+v", w.Status.UserInfo)
	}
	logins := se.BrowserLogins()

	kr.lock(t)
	r := se.Kubectl(ctx, "get", "ns", "-o", "name")
	if r.Err == nil || r.Stdout != "" {
		t.Fatalf("kubectl with a locked keyring: err %v, stdout %q", r.Err, r.Stdout)
	}
	t.Logf("kubectl with a locked keyring says:\n%s", r.Stderr)
	for _, want := range []string{"keyring", "unlock it or use --token-cache file"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("kubectl's error lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "kubectl securekapi login") {
		t.Errorf("a locked keyring is not a missing login; the error should not ask for one:\n%s", r.Stderr)
	}
	assertNoTokenFiles(t, se)
	// A login would not be kept: it fails before the browser opens.
	if r := se.Securekapi(ctx, "login", "e2e", "--token-cache", "keyring", "--browser-command", se.BrowserCommand()); r.Err == nil || !strings.Contains(r.Stderr, "unlock it or use --token-cache file") {
		t.Errorf("login with a locked keyring: %v\n%s", r.Err, r.Stderr)
	}
	if n := se.BrowserLogins() - logins; n != 0 {
		t.Errorf("login opened the browser (%d logins) although the keyring could not keep the tokens", n)
	}
	// doctor blames the keyring and says to unlock it, not to log in.
	checks, passed := runDoctor(t, se)
	if f := firstFailure(checks); passed || f.Name != "cached token" || !strings.Contains(f.Fix, "unlock") || strings.Contains(f.Fix, "login") {
		t.Errorf("doctor with a locked keyring: first failure %+v (passed %v)", f, passed)
	}

	kr.unlock(t, true)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami after unlocking = %+v", w.Status.UserInfo)
	}
	if n := se.BrowserLogins() - logins; n != 0 {
		t.Fatalf("%d new logins after unlocking; the cached token should have been used", n)
	}
}
