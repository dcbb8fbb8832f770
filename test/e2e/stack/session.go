package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Session is one user's machine: its own kubeconfig, securekapi registry
// and token cache under one directory, the plugin on PATH, and a test
// browser that completes Dex's login page as User.
type Session struct {
	Stack   *Stack
	Dir     string
	Plugin  string // path to kubectl-securekapi, the small exec program; the full CLI securekapi is beside it
	Browser string // path to testbrowser
	User    User
	// Extra environment for every command.
	Env []string
}

// NewTempSession prepares a session as user in a new temporary directory
// named after prefix, for the programs (the demo, the benchmarks) that have
// no t.TempDir; remove deletes the directory.
func (s *Stack) NewTempSession(prefix string, user User) (se *Session, remove func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	if se, err = s.NewSession(dir, "", user); err != nil {
		remove()
		return nil, nil, err
	}
	return se, remove, nil
}

// NewSession prepares a session under dir. plugin is the built
// kubectl-securekapi (default $SECUREKAPI_BIN).
func (s *Stack) NewSession(dir, plugin string, user User) (*Session, error) {
	if plugin == "" {
		plugin = os.Getenv("SECUREKAPI_BIN")
	}
	if plugin == "" {
		return nil, fmt.Errorf("set SECUREKAPI_BIN to the built kubectl-securekapi (make build)")
	}
	plugin, err := filepath.Abs(plugin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(plugin); err != nil {
		return nil, fmt.Errorf("plugin binary: %w (run make build)", err)
	}
	// The small program hands all but cached tokens to the full CLI beside
	// it, which hands expose authn-config to securekapi-admin; make build
	// puts all three in bin/.
	for _, next := range []string{"securekapi", "securekapi-admin"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(plugin), next)); err != nil {
			return nil, fmt.Errorf("%s next to the plugin: %w (run make build)", next, err)
		}
	}
	browser := filepath.Join(dir, "testbrowser")
	build := exec.Command("go", "build", "-o", browser, "github.com/securekapi/securekapi/test/e2e/cmd/testbrowser")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build testbrowser: %v: %s", err, out)
	}
	return &Session{Stack: s, Dir: dir, Plugin: plugin, Browser: browser, User: user}, nil
}

// Environ is the environment commands in this session run with.
func (se *Session) Environ() []string {
	env := []string{
		"KUBECONFIG=" + filepath.Join(se.Dir, "kubeconfig"),
		"SECUREKAPI_CONFIG=" + filepath.Join(se.Dir, "config", "clusters.yaml"),
		"SECUREKAPI_CACHE_DIR=" + filepath.Join(se.Dir, "cache"),
		// One keyring serves the whole test run; each session is its own
		// user, so it gets its own service name.
		"SECUREKAPI_KEYRING_SERVICE=securekapi-" + fmt.Sprintf("%x", sha256.Sum256([]byte(se.Dir)))[:12],
		"PATH=" + filepath.Dir(se.Plugin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TESTBROWSER_USER=" + se.User.Email,
		"TESTBROWSER_PASSWORD=" + se.User.Password,
		"TESTBROWSER_CA_FILE=" + se.Stack.DexCAFile,
		"TESTBROWSER_LOG=" + filepath.Join(se.Dir, "browser.log"),
	}
	for _, kv := range os.Environ() {
		k := strings.SplitN(kv, "=", 2)[0]
		switch k {
		case "KUBECONFIG", "SECUREKAPI_CONFIG", "SECUREKAPI_CACHE_DIR", "SECUREKAPI_KEYRING_SERVICE", "PATH":
			continue
		}
		env = append(env, kv)
	}
	return append(env, se.Env...)
}

// Result is a finished command.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run runs a program in the session, with a timeout.
func (se *Session) Run(ctx context.Context, name string, args ...string) Result {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = se.Environ()
	cmd.Dir = se.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// Securekapi runs the plugin.
func (se *Session) Securekapi(ctx context.Context, args ...string) Result {
	return se.Run(ctx, se.Plugin, args...)
}

// Kubectl runs the real kubectl.
func (se *Session) Kubectl(ctx context.Context, args ...string) Result {
	return se.Run(ctx, "kubectl", args...)
}

// BrowserCommand is the --browser-command that logs in as the session user.
func (se *Session) BrowserCommand() string { return se.Browser }

// BrowserLogins counts the logins the session's test browser completed
// (TESTBROWSER_LOG).
func (se *Session) BrowserLogins() int {
	data, _ := os.ReadFile(filepath.Join(se.Dir, "browser.log"))
	return strings.Count(string(data), "completed login")
}

// AddCluster registers the stack's endpoint as name, pinned to the CA pin
// that `pin` reports, the way a user following the README would.
func (se *Session) AddCluster(ctx context.Context, name string, extra ...string) error {
	pin := se.Securekapi(ctx, "pin", se.Stack.EndpointURL, "--tls-server-name", EndpointServerName)
	if pin.Err != nil {
		return fmt.Errorf("pin: %v: %s", pin.Err, pin.Stderr)
	}
	args := append([]string{"add", name, "--server", se.Stack.EndpointURL, "--tls-server-name", EndpointServerName,
		"--pin", strings.TrimSpace(pin.Stdout), "--oidc-issuer-url", se.Stack.IssuerURL,
		"--oidc-client-id", se.Stack.ClientID, "--oidc-ca-file", se.Stack.DexCAFile,
		"--oidc-extra-scope", "email", "--oidc-extra-scope", "groups"}, extra...)
	if r := se.Securekapi(ctx, args...); r.Err != nil {
		return fmt.Errorf("add: %v: %s", r.Err, r.Stderr)
	}
	return nil
}
