package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// newSession is a fresh user machine with the stack's cluster registered
// as "e2e" and kubeconfig switched to it.
func newSession(t *testing.T, user stack.User) *stack.Session {
	t.Helper()
	se, err := shared.NewSession(t.TempDir(), "", user)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := se.AddCluster(ctx, "e2e"); err != nil {
		t.Fatal(err)
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	return se
}

func browserLogin(t *testing.T, se *stack.Session, extra ...string) stack.Result {
	t.Helper()
	// No terminal here, so --approve is the person's approval of e2e.
	args := append([]string{"login", "e2e", "--approve", "--browser-command", se.BrowserCommand()}, extra...)
	r := se.Securekapi(context.Background(), args...)
	if r.Err != nil && gnomeKeyringLostLogin(r.Stderr) {
		t.Logf("gnome-keyring failed the write (its login collection gone for a moment, or the daemon's own abort); logging in once more. The shared daemon's log:\n%s", keyringLogTail())
		r = se.Securekapi(context.Background(), args...)
	}
	if r.Err != nil {
		t.Fatalf("login: %v\n%s", r.Err, r.Stderr)
	}
	if r.Stdout != "" {
		t.Fatalf("login wrote to stdout: %q", r.Stdout)
	}
	return r
}

type whoami struct {
	Status struct {
		UserInfo struct {
			Username string   `json:"username"`
			Groups   []string `json:"groups"`
		} `json:"userInfo"`
	} `json:"status"`
}

func kubectlWhoami(t *testing.T, se *stack.Session) whoami {
	t.Helper()
	r := se.Kubectl(context.Background(), "auth", "whoami", "-o", "json")
	if r.Err != nil {
		t.Fatalf("kubectl auth whoami: %v\n%s", r.Err, r.Stderr)
	}
	var w whoami
	if err := json.Unmarshal([]byte(r.Stdout), &w); err != nil {
		t.Fatalf("whoami output: %v\n%s", err, r.Stdout)
	}
	return w
}

// TestBrowserLoginThenKubectl: the main job. Login with authorization code +
// PKCE through Dex's real login page, then the real kubectl gets a token
// from the exec plugin (OS keyring) and the API server sees the OIDC user
// through the trusted endpoint.
func TestBrowserLoginThenKubectl(t *testing.T) {
	se := newSession(t, stack.Reader)
	r := browserLogin(t, se)
	for _, want := range []string{"alice@example.test", "readers", "OS keyring"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("login output lacks %q:\n%s", want, r.Stderr)
		}
	}
	w := kubectlWhoami(t, se)
	if w.Status.UserInfo.Username != stack.Reader.Email || !contains(w.Status.UserInfo.Groups, stack.ReaderGroup) {
		t.Fatalf("API server saw %+v, want %s in %s", w.Status.UserInfo, stack.Reader.Email, stack.ReaderGroup)
	}
	if r := se.Kubectl(context.Background(), "get", "ns", "-o", "name"); r.Err != nil || !strings.Contains(r.Stdout, "namespace/kube-system") {
		t.Fatalf("get ns: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	// The token is in the keyring, not on disk.
	assertNoTokenFiles(t, se)
	st := se.Securekapi(context.Background(), "status", "-o", "json")
	if st.Err != nil || !strings.Contains(st.Stdout, `"store": "keyring"`) || !strings.Contains(st.Stdout, stack.Reader.Email) {
		t.Fatalf("status: %v\n%s%s", st.Err, st.Stdout, st.Stderr)
	}
}

// TestOutsiderIsAuthenticatedButForbidden: RBAC on the real API server
// applies to the OIDC groups.
func TestOutsiderIsAuthenticatedButForbidden(t *testing.T) {
	se := newSession(t, stack.Outsider)
	browserLogin(t, se)
	w := kubectlWhoami(t, se)
	if w.Status.UserInfo.Username != stack.Outsider.Email {
		t.Fatalf("whoami = %+v", w.Status.UserInfo)
	}
	r := se.Kubectl(context.Background(), "get", "ns")
	if r.Err == nil || !strings.Contains(r.Stderr, "forbidden") {
		t.Fatalf("outsider listed namespaces: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
}

// deviceLineRe is the device flow's one line off a terminal: the URL that
// carries the code, then the code.
var deviceLineRe = regexp.MustCompile(`open (https://\S+) \(code ([^)\s]+)\)`)

// TestDeviceFlow: RFC 8628 against Dex; the "phone" is the test browser
// typing the user code into Dex's device page.
func TestDeviceFlow(t *testing.T) {
	se := newSession(t, stack.Reader)
	cmd := exec.Command(se.Plugin, "login", "e2e", "--approve", "--grant", "device-code")
	cmd.Env = se.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	codeRe := deviceLineRe
	var transcript strings.Builder
	sc := bufio.NewScanner(stderr)
	var uri, code string
	for sc.Scan() {
		transcript.WriteString(sc.Text() + "\n")
		if m := codeRe.FindStringSubmatch(sc.Text()); m != nil {
			uri, code = m[1], m[2]
			break
		}
	}
	if code == "" {
		t.Fatalf("no verification URL and code on stderr:\n%s", transcript.String())
	}
	go io.Copy(&transcript, stderr)
	b := &stack.Browser{User: stack.Reader, DexCAPEM: shared.DexCA.CertPEM, UserCode: code}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.Open(ctx, uri); err != nil {
		t.Fatalf("approve the device code: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("device login failed: %v\n%s", err, transcript.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("device login did not finish:\n%s", transcript.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("device login wrote to stdout: %q", stdout.String())
	}
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami after device login = %+v", w.Status.UserInfo)
	}
}

// TestNonInteractiveFailsFast: with no token and no terminal, kubectl's
// exec call must not pop a browser; it fails naming the login command.
func TestNonInteractiveFailsFast(t *testing.T) {
	se := newSession(t, stack.Reader)
	se.Env = append(se.Env, "BROWSER=/bin/false", "DISPLAY=:99")
	r := se.Kubectl(context.Background(), "get", "ns")
	if r.Err == nil {
		t.Fatalf("kubectl succeeded without a login:\n%s", r.Stdout)
	}
	if !strings.Contains(r.Stderr, "kubectl securekapi login e2e") {
		t.Fatalf("error does not name the login command:\n%s", r.Stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(se.Dir, "browser.log")); len(data) > 0 {
		t.Fatalf("a browser was opened in non-interactive mode")
	}
}

// TestTokenBinding: a kubeconfig edited to send the token elsewhere gets an
// error, not the token. The attacker here controls the kubeconfig cluster
// entry (server or CA) but not the exec args.
func TestTokenBinding(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	cases := map[string][]string{
		// Straight at kube-apiserver, trusting its cluster CA: a different
		// server than the one the token is bound to.
		"other server": {"--server=" + shared.APIServerURL, "--certificate-authority=" + shared.ClusterCAFile, "--tls-server-name="},
		// Same server URL, but a CA that is not the pinned one.
		"other CA": {"--certificate-authority=" + shared.DexCAFile},
	}
	for name, flags := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "kubeconfig")
			data, err := os.ReadFile(filepath.Join(se.Dir, "kubeconfig"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cfg, data, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--kubeconfig=" + cfg, "config", "set-cluster", "e2e", "--embed-certs"}, flags...)
			if r := se.Kubectl(ctx, args...); r.Err != nil {
				t.Fatalf("edit kubeconfig: %v %s", r.Err, r.Stderr)
			}
			r := se.Kubectl(ctx, "--kubeconfig="+cfg, "get", "ns")
			if r.Err == nil || !strings.Contains(r.Stderr, "refusing to release a token") {
				t.Fatalf("token released to an edited kubeconfig: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestConcurrentKubectlRefreshOnce: many kubectl processes need a refresh
// at the same moment; Dex rotates refresh tokens, so an unserialized second
// refresh would fail. All must succeed.
//
// The tokens are in the file store: what is tested is the token lock, and
// eight processes refreshing and writing at once crash gnome-keyring 42.1
// itself (GNOME/gnome-keyring#190: `gkd_secret_service_get_pkcs11_session:
// assertion 'client' failed`, then an abort), 2 times in 40 runs here,
// also with every securekapi Secret Service call serialized by a lock.
// The keyring's own concurrency is TestTunnelInterop's and the unit tests'.
func TestConcurrentKubectlRefreshOnce(t *testing.T) {
	se := newSession(t, stack.Reader)
	if r := se.Securekapi(context.Background(), "use", "e2e", "--token-cache", "file"); r.Err != nil {
		t.Fatalf("use --token-cache file: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se, "--token-cache", "file")
	// Every cached token counts as stale, so each process must refresh at
	// the same moment, and they must take turns.
	forceRefreshOnEveryCall(t, se)
	const n = 8
	var wg sync.WaitGroup
	results := make([]stack.Result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = se.Kubectl(context.Background(), "get", "ns", "-o", "name")
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.Err != nil {
			t.Errorf("kubectl %d failed: %v\n%s", i, r.Err, r.Stderr)
		}
	}
}

func assertNoTokenFiles(t *testing.T, se *stack.Session) {
	t.Helper()
	_ = filepath.Walk(filepath.Join(se.Dir, "cache"), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && isTokenFile(t, path) {
			t.Errorf("token file on disk although a keyring is available: %s", path)
		}
		return nil
	})
}

// isTokenFile: a .json file in the cache dir other than the approvals
// file, which holds no token (checked here, so skipping it hides nothing).
func isTokenFile(t *testing.T, path string) bool {
	t.Helper()
	if filepath.Base(path) != "approvals.json" {
		return strings.HasSuffix(path, ".json")
	}
	if data := mustRead(t, path); strings.Contains(data, "eyJ") || strings.Contains(strings.ToLower(data), "token") {
		t.Errorf("the approvals file holds something like a token:\n%s", data)
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// forceRefreshOnEveryCall edits the session's exec stanza so every cached
// ID token counts as stale: the next kubectl call must use the refresh
// token.
func forceRefreshOnEveryCall(t *testing.T, se *stack.Session) {
	t.Helper()
	path := filepath.Join(se.Dir, "kubeconfig")
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	user, ok := cfg.AuthInfos["securekapi-e2e"]
	if !ok || user.Exec == nil {
		t.Fatalf("no exec user securekapi-e2e in %s", path)
	}
	// A margin longer than the token lives makes every token stale.
	user.Exec.Args = append(user.Exec.Args, "--expiry-margin", (shared.IDTokenTTL + time.Minute).String())
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// TestRevokedRefreshToken: an administrator ends the user's session at the
// provider. The next refresh is refused; kubectl gets an error naming the
// login command, the dead tokens are dropped, and a new login works.
func TestRevokedRefreshToken(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	forceRefreshOnEveryCall(t, se)
	ctx := context.Background()
	if r := se.Kubectl(ctx, "get", "ns", "-o", "name"); r.Err != nil {
		t.Fatalf("kubectl with a working refresh token: %v\n%s", r.Err, r.Stderr)
	}
	if err := shared.RevokeRefresh(ctx, loggedInSubject(t, se)); err != nil {
		t.Fatal(err)
	}
	r := se.Kubectl(ctx, "get", "ns", "-o", "name")
	if r.Err == nil {
		t.Fatalf("kubectl succeeded after the refresh token was revoked:\n%s", r.Stdout)
	}
	for _, want := range []string{"refresh token was refused", "kubectl securekapi login e2e"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.Stderr)
		}
	}
	st := se.Securekapi(ctx, "status", "-o", "json")
	if strings.Contains(st.Stdout, stack.Reader.Email) {
		t.Errorf("status still shows a login after the refresh was refused:\n%s", st.Stdout)
	}
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami after a new login = %+v", w.Status.UserInfo)
	}
}

// TestFileStoreWithoutKeyring: with no Secret Service (CI, containers,
// SSH), tokens go to a 0600 file in a 0700 dir, and login says so.
func TestFileStoreWithoutKeyring(t *testing.T) {
	se := newSession(t, stack.Reader)
	se.Env = append(se.Env, "DBUS_SESSION_BUS_ADDRESS=")
	r := browserLogin(t, se)
	if !strings.Contains(r.Stderr, "file") {
		t.Errorf("login did not say it used the file store:\n%s", r.Stderr)
	}
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami with the file store = %+v", w.Status.UserInfo)
	}
	var files int
	_ = filepath.Walk(filepath.Join(se.Dir, "cache"), func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group/other access", path, info.Mode().Perm())
		}
		if !info.IsDir() && strings.HasSuffix(path, ".json") {
			files++
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
			}
		}
		return nil
	})
	if files == 0 {
		t.Fatalf("no token file under %s", filepath.Join(se.Dir, "cache"))
	}
	st := se.Securekapi(context.Background(), "status", "-o", "json")
	if st.Err != nil || !strings.Contains(st.Stdout, `"store": "file"`) {
		t.Fatalf("status: %v\n%s%s", st.Err, st.Stdout, st.Stderr)
	}
}

// TestCorruptCacheEntryIsDiscarded: a damaged token file is not fatal; it
// is dropped and the user is asked to log in again.
func TestCorruptCacheEntryIsDiscarded(t *testing.T) {
	se := newSession(t, stack.Reader)
	se.Env = append(se.Env, "SECUREKAPI_TOKEN_CACHE=file")
	browserLogin(t, se)
	var damaged int
	_ = filepath.Walk(filepath.Join(se.Dir, "cache"), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && isTokenFile(t, path) {
			damaged++
			return os.WriteFile(path, []byte(`{"idToken": 42, garbage`), 0o600)
		}
		return nil
	})
	if damaged == 0 {
		t.Fatal("no token file to damage")
	}
	r := se.Kubectl(context.Background(), "get", "ns")
	if r.Err == nil || !strings.Contains(r.Stderr, "kubectl securekapi login e2e") {
		t.Fatalf("kubectl with a corrupt cache: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami after re-login = %+v", w.Status.UserInfo)
	}
}

// TestCredentialBadExecInfo: the exec entry run by hand (or by a broken
// client) with bad KUBERNETES_EXEC_INFO fails clearly and prints nothing
// on stdout, where kubectl would look for a credential.
func TestCredentialBadExecInfo(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	args := execArgs(t, se)
	cases := map[string]struct{ info, want string }{
		"missing":         {"", "KUBERNETES_EXEC_INFO"},
		"not JSON":        {"{oops", "not valid JSON"},
		"unknown version": {`{"apiVersion":"client.authentication.k8s.io/v2","kind":"ExecCredential","spec":{}}`, "client.authentication.k8s.io/v2"},
		"wrong kind":      {`{"apiVersion":"client.authentication.k8s.io/v1","kind":"Pod","spec":{}}`, "Pod"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := *se
			s.Env = append(append([]string{}, se.Env...), "KUBERNETES_EXEC_INFO="+tc.info)
			r := s.Securekapi(context.Background(), args...)
			if r.Err == nil {
				t.Fatalf("credential accepted %q", tc.info)
			}
			if r.Stdout != "" {
				t.Fatalf("credential wrote to stdout: %q", r.Stdout)
			}
			if !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("error lacks %q:\n%s", tc.want, r.Stderr)
			}
		})
	}
	// And the good case, in both API versions kubectl speaks.
	for _, version := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		s := *se
		info := fmt.Sprintf(`{"apiVersion":%q,"kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":%q,"tls-server-name":%q,"certificate-authority-data":%q}}}`,
			version, shared.EndpointURL, stack.EndpointServerName, base64.StdEncoding.EncodeToString(shared.EnterpriseCA.CertPEM))
		s.Env = append(append([]string{}, se.Env...), "KUBERNETES_EXEC_INFO="+info)
		r := s.Securekapi(context.Background(), args...)
		if r.Err != nil {
			t.Fatalf("%s: %v\n%s", version, r.Err, r.Stderr)
		}
		var out struct {
			APIVersion string `json:"apiVersion"`
			Status     struct {
				Token               string `json:"token"`
				ExpirationTimestamp string `json:"expirationTimestamp"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("%s: stdout is not an ExecCredential: %v", version, err)
		}
		if out.APIVersion != version || strings.Count(out.Status.Token, ".") != 2 || out.Status.ExpirationTimestamp == "" {
			t.Fatalf("%s: got apiVersion %q, a token with %d dots, expiry %q", version, out.APIVersion, strings.Count(out.Status.Token, "."), out.Status.ExpirationTimestamp)
		}
		if strings.Contains(r.Stderr, out.Status.Token) {
			t.Fatalf("%s: the token leaked to stderr", version)
		}
	}
}

// execArgs are the exec stanza's args that `use` wrote.
func execArgs(t *testing.T, se *stack.Session) []string {
	t.Helper()
	r := se.Kubectl(context.Background(), "config", "view", "-o", `jsonpath={.users[?(@.name=="securekapi-e2e")].user.exec.args}`)
	var args []string
	if err := json.Unmarshal([]byte(r.Stdout), &args); err != nil || len(args) == 0 {
		t.Fatalf("exec args of user securekapi-e2e: %v %q %s", err, r.Stdout, r.Stderr)
	}
	return args
}

// TestProviderDown: with Dex stopped, a refresh fails within a bounded
// time with a message about the provider, not a hang.
func TestProviderDown(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	forceRefreshOnEveryCall(t, se)
	ctx := context.Background()
	if err := shared.StopComponent("dex"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shared.RestartComponent(context.Background(), "dex"); err != nil {
			t.Fatalf("restart dex: %v", err)
		}
	})
	r := se.Kubectl(ctx, "get", "ns", "--request-timeout=60s")
	if r.Err == nil {
		t.Fatal("kubectl succeeded with the provider down and a stale token")
	}
	if !strings.Contains(r.Stderr, shared.IssuerURL) {
		t.Errorf("error does not name the issuer:\n%s", r.Stderr)
	}
}

// loggedInSubject is the OIDC subject `status` reports for the session.
func loggedInSubject(t *testing.T, se *stack.Session) string {
	t.Helper()
	r := se.Securekapi(context.Background(), "status", "-o", "json")
	var st []struct {
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || len(st) == 0 || st[0].Subject == "" {
		t.Fatalf("status -o json: %v\n%s%s", err, r.Stdout, r.Stderr)
	}
	return st[0].Subject
}
