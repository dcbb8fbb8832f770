// Package access is the one mapping of a cluster's exec args (the flags
// `use` writes after `credential`) to OIDC client, token binding and token
// store settings, and the one place the token store is opened from them.
// Every exec arg is defined once, in the tables of execflags.go: `use`
// writes the stanza from them (Flags.ExecArgs), the full CLI's commands
// (pkg/cmd) bind pflag from them (Flags.AddFlags; Machine.AddFlags for
// `use --ci`; the store's flags alone, Flags.AddStoreFlags and
// AddTokenCacheFlag, for status and use), and the small exec program's fast path
// (pkg/credential/fastpath) reads the stanza with them
// (Flags.ParseExecArgsQuick), so an exec stanza means the same to all.
//
// It links pflag, the light credential packages and the standard library
// only: the small exec program must not link cobra, client-go or an OIDC
// library. pflag parses exactly as the full CLI does (the same value types,
// `--flag=value` forms and repeats), and its init costs microseconds.
package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
	"github.com/securekapi/securekapi/pkg/userfile"
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
	Machine

	// issuerCA is the --oidc-ca-file bundle as IssuerTrust read and hashed
	// it: the OIDC client trusts these bytes, never a second read.
	issuerCA []byte
	// cacheDir is ResolveCacheDir's checked answer, kept for this
	// process: the fast path asks twice (approvals, then the store).
	cacheDir string
}

// IssuerCAData is the --oidc-ca-file bundle as IssuerTrust (Binding) read
// it, or nil before then.
func (a *Flags) IssuerCAData() []byte { return a.issuerCA }

// Machine are the settings of the grants that need no person (CI jobs):
// where the CI's own OIDC token comes from, what audience the cluster
// expects, and where a confidential client's secret is. They name files and
// variables, never a token or secret themselves: exec args and kubeconfig
// are readable by anyone who can read the file, and land in logs.
type Machine struct {
	// Audience is the aud the cluster's API server expects in the token;
	// default the client ID (an ID token's audience).
	Audience string
	// CISource is where the CI's OIDC token comes from: github, gitlab,
	// file or env (see the CISource* constants).
	CISource string
	// CITokenVar is the variable holding the token: the name of the job's
	// GitLab `id_tokens` entry, or the variable of the env source.
	CITokenVar string
	// CITokenFile is the file of the file source (a projected
	// service-account token, for one); it is read afresh each time.
	CITokenFile string
	// CITokenAudience is the audience asked of GitHub for the CI token
	// (and checked in a token from the other sources when set). Default:
	// Audience for the ci-token grant, the issuer for token exchange.
	CITokenAudience string
	// ExchangeConnectorID is Dex's connector_id, which its token exchange
	// requires (it is not in RFC 8693).
	ExchangeConnectorID string
	// ClientSecretFile and ClientSecretEnv name where a confidential
	// client's secret is read from.
	ClientSecretFile string
	ClientSecretEnv  string
}

// The grants --grant takes. The first three need a person (auto picks
// between the browser and the device flow); the machine grants need none.
const (
	GrantAuto              = "auto"
	GrantAuthCode          = "auth-code"
	GrantDeviceCode        = "device-code"
	GrantCIToken           = "ci-token"
	GrantTokenExchange     = "token-exchange"
	GrantClientCredentials = "client-credentials"
)

// The sources of a CI's own OIDC token.
const (
	CISourceGitHub = "github"
	CISourceGitLab = "gitlab"
	CISourceFile   = "file"
	CISourceEnv    = "env"
)

// GitHub Actions' variables for requesting the job's OIDC token; a job
// has them when its workflow grants `permissions: id-token: write`.
const (
	GitHubRequestURLVar   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	GitHubRequestTokenVar = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// ExecArgs are the grant's exec args, as Flags.ExecArgs writes them.
func (m Machine) ExecArgs(grant string) []string {
	return (&Flags{Grant: grant, Machine: m}).ExecArgs()
}

// IsMachineGrant reports whether the grant needs no person.
func IsMachineGrant(grant string) bool {
	switch grant {
	case GrantCIToken, GrantTokenExchange, GrantClientCredentials:
		return true
	}
	return false
}

// ResolveAuto is --grant auto in a CI job: when the stanza names a CI
// token source (--ci-token-source) and that source is present here (GitHub's
// request variables, the GitLab or env variable, the token file), the job
// gets its token by exchanging the CI token at the cluster's issuer, with
// no person; elsewhere (a person's laptop with the same kubeconfig) auto
// stays a person's login. The CI token used directly cannot share a stanza
// with a person's login (its issuer is the CI's), so auto never picks it.
// Both the full CLI and the fast path resolve before anything else, so both
// look the token up under the same key.
func (a *Flags) ResolveAuto(getenv func(string) string) {
	if a.Grant == GrantAuto && a.CISource != "" && a.ciSourcePresent(getenv) {
		a.Grant = GrantTokenExchange
	}
}

func (a *Flags) ciSourcePresent(getenv func(string) string) bool {
	switch a.CISource {
	case CISourceGitHub:
		return getenv(GitHubRequestURLVar) != "" && getenv(GitHubRequestTokenVar) != ""
	case CISourceGitLab, CISourceEnv:
		return a.CITokenVar != "" && getenv(a.CITokenVar) != ""
	case CISourceFile:
		_, err := os.Stat(a.CITokenFile)
		return a.CITokenFile != "" && err == nil
	}
	return false
}

// MachineGrant reports whether the flags choose a grant that needs no person.
func (a *Flags) MachineGrant() bool { return IsMachineGrant(a.Grant) }

// TokenAudience is the audience the cluster expects in the token.
func (a *Flags) TokenAudience() string {
	if a.Audience != "" {
		return a.Audience
	}
	return a.ClientID
}

// SubjectAudience is the audience to ask the CI for: the cluster's own for
// the CI token used directly, the exchanging issuer for token exchange.
func (a *Flags) SubjectAudience() string {
	switch {
	case a.CITokenAudience != "":
		return a.CITokenAudience
	case a.Grant == GrantTokenExchange:
		return a.Issuer
	}
	return a.TokenAudience()
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

// Key is the token cache key of the OIDC client the flags name. A machine
// grant's key names the grant, its source and audience, so a CI token is
// never handed out for a person's login or for another source.
func (a *Flags) Key() tokenstore.Key {
	k := token.Key(a.Issuer, a.ClientID, a.ExtraScopes, a.ExtraParams)
	if a.MachineGrant() {
		k.Grant = a.grantKey()
	}
	return k
}

func (a *Flags) grantKey() string {
	parts := []string{a.Grant, "aud=" + a.TokenAudience()}
	if a.Grant != GrantClientCredentials {
		parts = append(parts, "source="+a.CISource, "var="+a.CITokenVar, "file="+a.CITokenFile, "subject-aud="+a.SubjectAudience())
	}
	if a.Grant == GrantTokenExchange {
		parts = append(parts, "connector="+a.ExchangeConnectorID)
	}
	return strings.Join(parts, " ")
}

// Source is the fingerprint of this CI job's material for a machine grant
// (GitHub's per-job request token, the GitLab or env token itself, the
// token file's contents; for client credentials, the client secret), or ""
// for none. A token is cached with the fingerprint it was minted under and
// handed out only while it is the same (token.SourceMatches), so on a
// runner that keeps its cache between jobs one job's token never serves the
// next, nor a job that lacks the material. The material itself is never
// stored, only a domain-separated SHA-256 of it.
func (a *Flags) Source(getenv func(string) string) string {
	if !a.MachineGrant() {
		return ""
	}
	domain, material := "securekapi-ci-source/v1", ""
	switch {
	case a.Grant == GrantClientCredentials:
		domain = "securekapi-client-secret/v1"
		material, _, _ = a.ReadClientSecret(getenv, os.ReadFile)
	case a.CISource == CISourceGitHub:
		material = getenv(GitHubRequestTokenVar)
	case a.CISource == CISourceGitLab, a.CISource == CISourceEnv:
		material = getenv(a.CITokenVar)
	case a.CISource == CISourceFile:
		b, err := os.ReadFile(a.CITokenFile)
		if err != nil {
			return ""
		}
		material = string(b)
	}
	if material == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(domain + "\x00" + material))
	return hex.EncodeToString(sum[:])
}

// ReadClientSecret reads a confidential client's secret from where the
// flags name it (--client-secret-env, else --client-secret-file), and says
// where that is for messages. A trailing newline (as `echo` and most
// secret mounts leave) is not part of it; an empty secret is an error.
func (m *Machine) ReadClientSecret(getenv func(string) string, readFile func(string) ([]byte, error)) (secret, where string, err error) {
	if m.ClientSecretEnv != "" {
		where = "$" + m.ClientSecretEnv
		secret = getenv(m.ClientSecretEnv)
	} else {
		where = m.ClientSecretFile
		b, err := readFile(m.ClientSecretFile)
		if err != nil {
			return "", where, fmt.Errorf("read the client secret: %w; fix --client-secret-file", err)
		}
		secret = string(b)
	}
	secret = strings.TrimRight(secret, "\r\n")
	if secret == "" {
		return "", where, fmt.Errorf("the client secret in %s is empty; put the client's secret there (--client-secret-file or --client-secret-env)", where)
	}
	return secret, where, nil
}

// Binding is the token binding the flags name, with how they trust the
// issuer (IssuerTrust), which an approval covers too.
func (a *Flags) Binding() (binding.Binding, error) {
	pins, err := pinning.ParsePins(a.Pins)
	if err != nil {
		return binding.Binding{}, fmt.Errorf("--pin: %w", err)
	}
	issuerTrust, err := a.IssuerTrust()
	if err != nil {
		return binding.Binding{}, err
	}
	return binding.Binding{Cluster: a.Cluster, Server: a.Server, TLSServerName: a.TLSServerName, Pins: pins, IssuerTrust: issuerTrust}, nil
}

// IssuerTrust says how the issuer's TLS is verified, as approvals record
// it: the hash of the --oidc-ca-file bundle's bytes, else the system roots
// (with SSL_CERT_FILE's or SSL_CERT_DIR's path when the environment
// changes them: crypto/x509 reads them from the process
// environment, which an exec stanza's env sets). The CA file must be a
// plain file only the user or root can change (userfile.ReadTrustFile), so
// the bytes hashed here are the bytes the OIDC client later trusts.
func (a *Flags) IssuerTrust() (string, error) {
	if a.OIDCCAFile != "" {
		data, err := userfile.ReadTrustFile(a.OIDCCAFile)
		if err != nil {
			return "", fmt.Errorf("--oidc-ca-file: %w", err)
		}
		a.issuerCA = data
		return "ca " + contentHash(data), nil
	}
	trust := binding.SystemRoots
	// The system bundle is named by its path, not hashed: it is a few
	// hundred kilobytes, hashing it cost about 1 ms on every kubectl call,
	// and a file only the user or root can change (CheckTrustFile) changes
	// only by their hand.
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		if err := userfile.CheckTrustFile(f); err != nil {
			return "", fmt.Errorf("SSL_CERT_FILE: %w", err)
		}
		trust += ", SSL_CERT_FILE " + f
	}
	if d := os.Getenv("SSL_CERT_DIR"); d != "" {
		trust += ", SSL_CERT_DIR " + d
	}
	return trust, nil
}

// Validate checks what every token command needs.
func (a *Flags) Validate() error {
	if a.Issuer == "" || a.ClientID == "" {
		return fmt.Errorf("no OIDC settings: pass --oidc-issuer-url and --oidc-client-id, or name a cluster that `kubectl securekapi use` has set up")
	}
	if err := a.checkText(); err != nil {
		return err
	}
	if !strings.HasPrefix(a.Issuer, "https://") {
		return fmt.Errorf("--oidc-issuer-url %q must be an https URL", a.Issuer)
	}
	switch a.Grant {
	case GrantAuto, GrantAuthCode, GrantDeviceCode:
		if a.Grant == GrantAuto && a.CISource != "" {
			if err := a.validateCISource(); err != nil { // what auto would use in a CI job
				return err
			}
		}
		if a.Audience != "" && a.Audience != a.ClientID {
			return fmt.Errorf("--audience %s is for CI grants: a person's ID token is issued for the client ID (%s)", a.Audience, a.ClientID)
		}
	case GrantCIToken, GrantTokenExchange, GrantClientCredentials:
		if err := a.validateMachine(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("--grant %q: use auto, auth-code or device-code (a person logs in), or ci-token, token-exchange or client-credentials (a CI job)", a.Grant)
	}
	if a.ExpiryMargin < 0 || a.ExpiryMargin > MaxExpiryMargin {
		return fmt.Errorf("--expiry-margin %s: must be between 0s and %s (default %s)", a.ExpiryMargin, MaxExpiryMargin, token.DefaultExpiryMargin)
	}
	return nil
}

// checkText refuses exec args that are not text an identifier can be:
// invalid UTF-8, a control character, or longer than its bound
// (safetext.Check). A kubeconfig may come from anyone, and these values
// reach messages and prompts.
func (a *Flags) checkText() error {
	for _, f := range []struct {
		flag, value string
		max         int
	}{
		{"--cluster-name", a.Cluster, safetext.MaxHostName}, // a Kubernetes name: at most 253
		{"--oidc-issuer-url", a.Issuer, safetext.MaxURL},
		{"--oidc-client-id", a.ClientID, safetext.MaxClientID},
		{"--server", a.Server, safetext.MaxURL},
		{"--tls-server-name", a.TLSServerName, safetext.MaxHostName},
		{"--oidc-ca-file", a.OIDCCAFile, safetext.MaxPath},
		{"--cache-dir", a.CacheDir, safetext.MaxPath},
		{"--browser-command", a.BrowserCmd, safetext.MaxPath},
		{"--audience", a.Audience, safetext.MaxURL},
		{"--ci-token-audience", a.CITokenAudience, safetext.MaxURL},
		{"--ci-token-var", a.CITokenVar, safetext.MaxToken},
		{"--ci-token-file", a.CITokenFile, safetext.MaxPath},
		{"--token-exchange-connector-id", a.ExchangeConnectorID, safetext.MaxToken},
		{"--client-secret-file", a.ClientSecretFile, safetext.MaxPath},
		{"--client-secret-env", a.ClientSecretEnv, safetext.MaxToken},
	} {
		if err := safetext.Check(f.value, f.max); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	for _, s := range a.ExtraScopes {
		if err := safetext.Check(s, safetext.MaxToken); err != nil {
			return fmt.Errorf("--oidc-extra-scope: %w", err)
		}
	}
	for k, v := range a.ExtraParams {
		if err := safetext.Check(k, safetext.MaxToken); err != nil {
			return fmt.Errorf("--oidc-auth-request-extra-params: %w", err)
		}
		if err := safetext.Check(v, safetext.MaxValue); err != nil {
			return fmt.Errorf("--oidc-auth-request-extra-params %s: %w", safetext.Quote(k), err)
		}
	}
	return nil
}

// validateMachine checks a machine grant's settings: its source is
// complete, and a secret is named, never given.
func (a *Flags) validateMachine() error {
	if a.Grant == GrantClientCredentials {
		if (a.ClientSecretFile == "") == (a.ClientSecretEnv == "") {
			return fmt.Errorf("--grant client-credentials needs the client secret from exactly one of --client-secret-file PATH or --client-secret-env VARIABLE (the secret is never an argument)")
		}
		if a.CISource != "" {
			return fmt.Errorf("--ci-token-source %s: client credentials use no CI token; drop it, or use --grant token-exchange", a.CISource)
		}
	} else if err := a.validateCISource(); err != nil {
		return err
	}
	if a.ClientSecretFile != "" && a.ClientSecretEnv != "" {
		return fmt.Errorf("--client-secret-file and --client-secret-env both given: name one place for the secret")
	}
	if a.Grant == GrantCIToken && (a.ClientSecretFile != "" || a.ClientSecretEnv != "") {
		return fmt.Errorf("--grant ci-token sends the CI token itself and no client secret; drop --client-secret-*, or use --grant token-exchange")
	}
	if a.TokenCache != "" && a.TokenCache != string(tokenstore.SelectFile) && a.TokenCache != string(tokenstore.SelectNone) && a.TokenCache != string(tokenstore.SelectAuto) {
		return fmt.Errorf("--token-cache %s: a CI grant's short-lived tokens are never kept in the keyring; use file (the default for CI grants) or none", a.TokenCache)
	}
	return nil
}

func (a *Flags) validateCISource() error {
	switch a.CISource {
	case CISourceGitHub:
	case CISourceGitLab, CISourceEnv:
		if a.CITokenVar == "" {
			return fmt.Errorf("--ci-token-source %s needs --ci-token-var: the name of the variable that holds the token (for GitLab, the job's id_tokens entry)", a.CISource)
		}
	case CISourceFile:
		if a.CITokenFile == "" {
			return fmt.Errorf("--ci-token-source file needs --ci-token-file PATH")
		}
	case "":
		return fmt.Errorf("--grant %s needs --ci-token-source: github, gitlab, file or env", a.Grant)
	default:
		return fmt.Errorf("--ci-token-source %q: use github, gitlab, file or env", a.CISource)
	}
	return nil
}

// contentHash names a trust bundle by its bytes.
func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
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

// ApproveCommand is what approves this cluster to receive the token: a
// person's `login NAME`; for a CI grant, which never logs in, the `use`
// that writes its stanza, with --approve.
func (a *Flags) ApproveCommand() string {
	if !a.MachineGrant() {
		return a.LoginCommand()
	}
	name := a.Cluster
	if name == "" {
		name = "NAME"
	}
	switch a.Grant {
	case GrantClientCredentials:
		return "kubectl securekapi use " + name + " --ci-grant client-credentials --ci-client-id " + a.ClientID + " --approve"
	case GrantTokenExchange:
		return "kubectl securekapi use " + name + " --ci " + a.CISource + " --ci-grant token-exchange --approve"
	}
	return "kubectl securekapi use " + name + " --ci " + a.CISource + " --approve"
}

// ResolveCacheDir is where the approvals file, the file store and the
// lock files live: --cache-dir, else $SECUREKAPI_CACHE_DIR, else the user
// cache dir. An exec stanza's args and env can name it, so it must be the
// user's own (userfile.CheckPrivateDir): a private directory of the user,
// reached through directories no one else can change. Another user's
// directory, a shared one, or a checked-out repository (0755) is refused,
// so nobody can plant an approval there or read a token from it.
func (a *Flags) ResolveCacheDir(getenv func(string) string) (string, error) {
	if a.cacheDir != "" {
		return a.cacheDir, nil
	}
	dir, source := a.CacheDir, "--cache-dir"
	if dir == "" {
		dir, source = getenv("SECUREKAPI_CACHE_DIR"), "SECUREKAPI_CACHE_DIR"
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("find a cache directory: %w (set SECUREKAPI_CACHE_DIR)", err)
		}
		dir, source = filepath.Join(base, "securekapi"), "the user cache directory"
	}
	if err := userfile.CheckPrivateDir(dir); err != nil {
		return "", fmt.Errorf("the cache directory (%s): %w", source, err)
	}
	a.cacheDir = dir
	return dir, nil
}

// OpenStore opens the selected token store and returns it with the cache
// directory; a notice (e.g. "keyring unavailable, using files") goes to
// errOut the first time it differs from the last one said.
func (a *Flags) OpenStore(getenv func(string) string, errOut io.Writer) (tokenstore.Store, string, error) {
	choice := a.TokenCache
	if choice == "" {
		choice = getenv("SECUREKAPI_TOKEN_CACHE")
	}
	if choice == "" {
		choice = string(tokenstore.SelectAuto)
	}
	// A machine grant's tokens live minutes, have no refresh token, and are
	// minted again whenever they lapse: they never go to the keyring (a
	// runner's keyring outlives the job), only to the private file store,
	// which lets parallel kubectl calls in one job share one token.
	if a.MachineGrant() {
		if c := tokenstore.Selection(strings.ToLower(strings.TrimSpace(choice))); c == tokenstore.SelectAuto || c == tokenstore.SelectKeyring {
			choice = string(tokenstore.SelectFile) // an explicit --token-cache keyring is refused by Validate
		}
	}
	sel, err := tokenstore.ParseSelection(choice)
	if err != nil {
		return nil, "", fmt.Errorf("--token-cache: %w", err)
	}
	dir, err := a.ResolveCacheDir(getenv)
	if err != nil {
		return nil, "", err
	}
	// SECUREKAPI_KEYRING_SERVICE keeps identities apart in one keyring:
	// two CI jobs on one runner, or test sessions.
	store, notice, err := tokenstore.Open(sel, tokenstore.OpenOptions{
		Keyring: tokenstore.SystemKeyring(), Service: getenv("SECUREKAPI_KEYRING_SERVICE"),
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
	_ = userfile.MkdirPrivate(filepath.Dir(marker))
	_ = os.WriteFile(marker, []byte(message), 0o600)
	return true
}
