// Package access is the one mapping of a cluster's exec args (the flags
// `use` writes after `credential`) to OIDC client, token binding and token
// store settings, and the one place the token store is opened from them.
// Every exec arg is defined once, in the tables of execflags.go: `use`
// writes the stanza from them (Flags.ExecArgs), the full CLI's commands
// (pkg/cmd) bind pflag from them (Flags.AddFlags; AddMachineFlags for
// `use --ci`; the store's flags alone, Flags.AddStoreFlags and
// AddTokenCacheFlag, for status and use), and the small exec program's fast path
// (pkg/credential/execplugin) reads the stanza with them
// (Flags.ParseExecArgsQuick), so an exec stanza means the same to all.
//
// It links pflag, the light credential packages and the standard library
// only: the small exec program must not link cobra, client-go or an OIDC
// library. pflag parses exactly as the full CLI does (the same value types,
// `--flag=value` forms and repeats), and its init costs microseconds.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package access

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/grant"
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
	grant.Machine

	// issuerCA is the --oidc-ca-file bundle as IssuerTrust read and hashed
	// it: the OIDC client trusts these bytes, never a second read.
	issuerCA []byte
}

// IssuerCAData is the --oidc-ca-file bundle as IssuerTrust (Binding) read
// it, or nil before then.
func (a *Flags) IssuerCAData() []byte { return a.issuerCA }

// Request is the login the flags name as the grants read it, with the
// grant --grant names (nil when it names none the registry knows:
// Validate says so).
func (a *Flags) Request() *grant.Request {
	g, _ := grant.Lookup(a.Grant)
	return &grant.Request{Grant: g, Cluster: a.Cluster, Issuer: a.Issuer, ClientID: a.ClientID, TokenCache: a.TokenCache, Machine: a.Machine}
}

// CIEnv is what the CI systems read of this process: its variables, and
// files through userfile.ReadPlainFile (ci.Env's default).
func CIEnv(getenv func(string) string) ci.Env { return ci.Env{Getenv: getenv} }

// ResolveAuto is --grant auto in a CI job (grant.ResolveAuto): token
// exchange when the stanza names a CI token source that is present here,
// a person's login elsewhere. Both the full CLI and the fast path resolve
// before anything else, so both look the token up under the same key.
func (a *Flags) ResolveAuto(getenv func(string) string) {
	if a.Grant == grant.Auto && a.CISource != "" {
		a.Grant = grant.ResolveAuto(a.Request(), CIEnv(getenv))
	}
}

// MachineGrant reports whether the flags choose a grant that needs no person.
func (a *Flags) MachineGrant() bool {
	g, ok := grant.Lookup(a.Grant)
	return ok && !g.Person()
}

// TokenAudience is the audience the cluster expects in the token
// (grant.Request.TokenAudience, without building the request: the fast
// path asks on every call).
func (a *Flags) TokenAudience() string { return cmp.Or(a.Audience, a.ClientID) }

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
// grant's key names the grant, its source and audience
// (grant.Request.KeyGrant), so a CI token is never handed out for a
// person's login or for another source.
func (a *Flags) Key() tokenstore.Key {
	k := token.Key(a.Issuer, a.ClientID, a.ExtraScopes, a.ExtraParams)
	if a.MachineGrant() {
		k.Grant = a.Request().KeyGrant()
	}
	return k
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
	r := a.Request()
	domain, material := r.Grant.Material(r, CIEnv(getenv))
	if material == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(domain + "\x00" + material))
	return hex.EncodeToString(sum[:])
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
	r := a.Request()
	if r.Grant == nil {
		_, err := grant.Get(a.Grant)
		return err
	}
	if err := r.Validate(); err != nil {
		return err
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
	r := a.Request()
	if r.Grant == nil || r.Grant.Person() {
		return a.LoginCommand()
	}
	name := a.Cluster
	if name == "" {
		name = "NAME"
	}
	return "kubectl securekapi use " + name + " " + r.Grant.Approve(r) + " --approve"
}

// StoreChoice is what the flags say of the token store: --token-cache,
// --cache-dir, and whether the grant needs no person (its tokens never go
// to the keyring). tokenstore.ResolveCacheDir and tokenstore.OpenChoice
// make the decision.
func (a *Flags) StoreChoice() tokenstore.Choice {
	return tokenstore.Choice{Selection: a.TokenCache, CacheDir: a.CacheDir, Machine: a.MachineGrant()}
}
