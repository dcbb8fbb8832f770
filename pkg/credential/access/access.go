// Package access is the one mapping of a cluster's exec args (the flags
// `use` writes after `credential`) to OIDC client, token binding and token
// store settings, and the one place the token store is opened from them.
// The full CLI's commands (pkg/cmd) and the small exec program's fast path
// (pkg/credential/fastpath) both parse with Flags.AddFlags, so an exec
// stanza means the same to both.
//
// It links pflag, the light credential packages and the standard library
// only: the small exec program must not link cobra, client-go or an OIDC
// library. pflag parses exactly as the full CLI does (the same value types,
// `--flag=value` forms and repeats), and its init costs microseconds.
package access

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/cachedtoken"
	"github.com/securekapi/securekapi/pkg/credential/tokencache"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Flags are a cluster's OIDC client, token binding and token store
// settings. `use` writes them as exec args, so a kubeconfig is
// self-contained; login, logout, status and credential all read them. The
// OIDC flag names match kubelogin's, so migrating is a rename.
type Flags struct {
	Cluster       string
	Issuer        string
	ClientID      string
	ExtraScopes   []string
	ExtraParams   map[string]string
	OIDCCAFile    string
	Server        string
	TLSServerName string
	Pins          []string
	TokenCache    string
	CacheDir      string
	Grant         string
	BrowserCmd    string
	LoginTimeout  time.Duration
	ExpiryMargin  time.Duration
	BindAddresses []string
}

// AddFlags binds the flags.
func (a *Flags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&a.Cluster, "cluster-name", "", "Name of the cluster, shown in messages")
	fs.StringVar(&a.Issuer, "oidc-issuer-url", "", "OIDC issuer URL")
	fs.StringVar(&a.ClientID, "oidc-client-id", "", "OIDC client ID")
	fs.StringSliceVar(&a.ExtraScopes, "oidc-extra-scope", nil, "Extra scopes to request (openid is always requested); repeatable")
	fs.StringToStringVar(&a.ExtraParams, "oidc-auth-request-extra-params", nil, "Extra authorization request parameters, key=value; repeatable")
	fs.StringVar(&a.OIDCCAFile, "oidc-ca-file", "", "PEM CA bundle for a privately issued OIDC issuer (default: system roots)")
	fs.StringVar(&a.Server, "server", "", "Token binding: the API server URL tokens may be sent to")
	fs.StringVar(&a.TLSServerName, "tls-server-name", "", "Token binding: the name kubectl must verify the server certificate for (default: the --server host)")
	fs.StringSliceVar(&a.Pins, "pin", nil, "Token binding: sha256:<hex SPKI> pin of the CA kubectl must trust; repeatable")
	fs.StringVar(&a.TokenCache, "token-cache", "", "Token store: auto, keyring, file or none (default: $SECUREKAPI_TOKEN_CACHE, else auto)")
	fs.StringVar(&a.CacheDir, "cache-dir", "", "Directory for the file store and lock files (default: $SECUREKAPI_CACHE_DIR, else the user cache dir)")
	fs.StringVar(&a.Grant, "grant", "auto", "Login flow: auto, auth-code (browser with PKCE) or device-code")
	fs.StringVar(&a.BrowserCmd, "browser-command", "", "Command to open the login URL with (default: the system's opener)")
	fs.DurationVar(&a.LoginTimeout, "login-timeout", 5*time.Minute, "How long to wait for a login to finish")
	fs.DurationVar(&a.ExpiryMargin, "expiry-margin", cachedtoken.DefaultExpiryMargin, "Treat tokens as expired this long before they really expire")
	fs.StringSliceVar(&a.BindAddresses, "listen-address", nil, "Address for the browser flow's loopback callback (default 127.0.0.1:0)")
}

// ParseExecArgs reads the exec args `use` writes after `credential` into a,
// with the flags AddFlags binds, and returns the positional arguments left
// over. Parse errors are returned, never printed.
func (a *Flags) ParseExecArgs(args []string) ([]string, error) {
	fs := pflag.NewFlagSet("exec", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// FillFromExecArgs reads the exec args `use` wrote into the flags the
// command line did not set (explicit reports which it did): a flag the user
// typed wins over the stanza, and every other setting comes from it. The
// values go straight from the args into a's fields through the flags
// AddFlags binds, never rendered back to text and parsed again, so repeated
// flags, scopes and key=value parameters with commas arrive intact.
func (a *Flags) FillFromExecArgs(args []string, explicit func(flag string) bool) error {
	fs := pflag.NewFlagSet("exec", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	given := *a
	a.AddFlags(fs) // binds a's fields, and resets them to their defaults
	*a = given
	fs.VisitAll(func(f *pflag.Flag) {
		if explicit(f.Name) {
			f.Value = ignoredValue{f.Value.Type()}
		}
	})
	return fs.Parse(args)
}

// ignoredValue takes a flag's values and keeps none: the user's own value
// of that flag stands.
type ignoredValue struct{ typ string }

func (ignoredValue) Set(string) error { return nil }
func (ignoredValue) String() string   { return "" }
func (v ignoredValue) Type() string   { return v.typ }

// Key is the token cache key of the OIDC client the flags name.
func (a *Flags) Key() tokencache.Key {
	return cachedtoken.Key(a.Issuer, a.ClientID, a.ExtraScopes, a.ExtraParams)
}

// Binding is the token binding the flags name.
func (a *Flags) Binding() (binding.Binding, error) {
	pins, err := pinning.ParsePins(a.Pins)
	if err != nil {
		return binding.Binding{}, fmt.Errorf("--pin: %w", err)
	}
	return binding.Binding{Cluster: a.Cluster, Server: a.Server, TLSServerName: a.TLSServerName, Pins: pins}, nil
}

// Validate checks what every token command needs.
func (a *Flags) Validate() error {
	if a.Issuer == "" || a.ClientID == "" {
		return fmt.Errorf("no OIDC settings: pass --oidc-issuer-url and --oidc-client-id, or name a cluster that `kubectl securekapi use` has set up")
	}
	if !strings.HasPrefix(a.Issuer, "https://") {
		return fmt.Errorf("--oidc-issuer-url %q must be an https URL", a.Issuer)
	}
	switch a.Grant {
	case "auto", "auth-code", "device-code":
	default:
		return fmt.Errorf("--grant %q: use auto, auth-code or device-code", a.Grant)
	}
	if a.ExpiryMargin < 0 || a.ExpiryMargin > MaxExpiryMargin {
		return fmt.Errorf("--expiry-margin %s: must be between 0s and %s (default %s)", a.ExpiryMargin, MaxExpiryMargin, cachedtoken.DefaultExpiryMargin)
	}
	return nil
}

// MaxExpiryMargin bounds --expiry-margin: ID tokens live minutes to hours,
// so a margin past a day would treat every token as expired and log in on
// every kubectl call.
const MaxExpiryMargin = 24 * time.Hour

// LoginCommand is the command a user should run to log in to this cluster.
func (a *Flags) LoginCommand() string {
	if a.Cluster != "" {
		return "kubectl securekapi login " + a.Cluster
	}
	return fmt.Sprintf("kubectl securekapi login --oidc-issuer-url %s --oidc-client-id %s", a.Issuer, a.ClientID)
}

// ResolveCacheDir is where the file store and the lock files live.
func (a *Flags) ResolveCacheDir(getenv func(string) string) (string, error) {
	if a.CacheDir != "" {
		return a.CacheDir, nil
	}
	if d := getenv("SECUREKAPI_CACHE_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory: %w (set SECUREKAPI_CACHE_DIR)", err)
	}
	return filepath.Join(base, "securekapi"), nil
}

// OpenStore opens the selected token store and returns it with the cache
// directory; a notice (e.g. "keyring unavailable, using files") goes to
// errOut the first time it differs from the last one said.
func (a *Flags) OpenStore(getenv func(string) string, errOut io.Writer) (tokencache.Store, string, error) {
	choice := a.TokenCache
	if choice == "" {
		choice = getenv("SECUREKAPI_TOKEN_CACHE")
	}
	if choice == "" {
		choice = "auto"
	}
	sel, err := tokencache.ParseSelection(choice)
	if err != nil {
		return nil, "", fmt.Errorf("--token-cache: %w", err)
	}
	dir, err := a.ResolveCacheDir(getenv)
	if err != nil {
		return nil, "", err
	}
	// SECUREKAPI_KEYRING_SERVICE keeps identities apart in one keyring:
	// two CI jobs on one runner, or test sessions.
	store, notice, err := tokencache.Open(sel, tokencache.OpenOptions{
		Keyring: tokencache.SystemKeyring(), Service: getenv("SECUREKAPI_KEYRING_SERVICE"),
		FileDir: filepath.Join(dir, "tokens"),
	})
	if err != nil {
		return nil, "", err
	}
	if notice != "" && firstTime(filepath.Join(dir, "store-notice"), string(notice)) {
		fmt.Fprintf(errOut, "securekapi: %s\n", notice)
	}
	return store, dir, nil
}

// firstTime reports whether message differs from the one last recorded in
// marker, and records it. The store notice is said once, not on every
// kubectl call; a change (the keyring came back, or went away) is said again.
func firstTime(marker, message string) bool {
	if old, err := os.ReadFile(marker); err == nil && string(old) == message {
		return false
	}
	_ = os.MkdirAll(filepath.Dir(marker), 0o700)
	_ = os.WriteFile(marker, []byte(message), 0o600)
	return true
}
