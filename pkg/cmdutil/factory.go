// Package cmdutil is what securekapi's commands share: the Factory, whose
// fields are the process's streams (and which are terminals), clock,
// environment, kubeconfig store, cluster registry, token stores, HTTP
// client, browser, OIDC issuer and tunnels, and the few pieces of wiring
// more than one command uses (access flags, the approver, the endpoint
// check, output formats). The commands themselves are in pkg/cmd/<name>,
// each copying the fields it uses into its Options; the work is in
// pkg/kubeconfig, pkg/trust, pkg/credential (loginui among it),
// pkg/localproxy and pkg/tunnel, which never take the Factory.
package cmdutil

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/loginui"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// Factory holds the global flags and the process's side effects, as fields
// only: NewFactory, the one place it is built, fills every one with the real
// thing, and a test overrides the ones it fakes (buffers, a fixed clock, a
// fake environment, fakes for the network). Its funcs read the other fields
// when called, so an override or a parsed flag (--kubeconfig, -v) counts.
// The work is in the packages below, which take values, never the Factory.
type Factory struct {
	genericiooptions.IOStreams
	// StdinIsTTY, StdoutIsTTY and StderrIsTTY: the stream is a terminal
	// (IsTerminal), as NewFactory found it; a test sets the answer, so the
	// terminal-only branches (the picker, the y/N prompt, colour, the login
	// countdown and QR code) are driven without a pseudo-terminal.
	StdinIsTTY, StdoutIsTTY, StderrIsTTY bool

	// Kubeconfig is --kubeconfig; empty means KUBECONFIG or ~/.kube/config,
	// following client-go's loading rules.
	Kubeconfig string
	// Context is --context, for the commands that read the current context.
	Context string
	// Verbosity is -v; debug logs go to stderr and never carry tokens.
	Verbosity int

	// Program is the name the user invoked, which help and completion
	// show: kubectl-securekapi (directly, or through kubectl's plugin
	// path) or securekapi.
	Program string

	// Getenv is the process environment.
	Getenv func(string) string
	// Environ is the same environment as a list, which the commands run
	// and shell start inherit, with their own settings on top.
	Environ func() []string
	// Now is the clock.
	Now func() time.Time

	// Secrets are the tokens the process has held; errors and logs are
	// redacted of them.
	Secrets *redact.Secrets

	// HTTPClient fetches what commands read over https (profiles), with a
	// 30 s timeout. Its TLS verification is never off.
	HTTPClient *http.Client
	// Browser opens a login URL with --browser-command (command), else the
	// system's opener (loginui.SystemBrowser).
	Browser func(command, url string) error
	// Issuer discovers an OIDC provider: oidc.Discover over the network,
	// verifying ID tokens against Now.
	Issuer func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	// Caller is the client that ran the credential plugin (its kubeconfig
	// files and flags): the parent process where the system tells
	// (callerconfig.Parent), else Getenv standing in.
	Caller func() *callerconfig.Caller

	// Logger is a stderr logger at -v: -v 1 and up shows debug lines; it
	// writes nothing at the default verbosity.
	Logger func() *slog.Logger
	// WarnLogger shows warnings at the default verbosity, and debug lines
	// too at -v 1 and up: for what serves in the background while the
	// user works (a tunnel), whose failures they must see.
	WarnLogger func() *slog.Logger
	// KubeContext is --context, read when called (after the flags are
	// parsed), for Options that copy it.
	KubeContext func() string
	// KubeconfigStore is the kubeconfig --kubeconfig or KUBECONFIG names,
	// read and written with client-go's merge rules under kubectl's lock.
	KubeconfigStore func() *kubeconfig.Store
	// Registry is the user's cluster registry, where SECUREKAPI_CONFIG or
	// else the user config directory puts it: the one way a command finds it.
	Registry func() (*profile.Registry, error)
	// RESTConfig is the kubeconfig's cluster for the platform-owner
	// commands that talk to it (restconfig.go).
	RESTConfig func(timeout time.Duration) (*rest.Config, error)
	// Tunnels starts tunnels on WarnLogger (gateway failures show at the
	// default verbosity, every tunnel at -v), Secrets and KubeconfigStore.
	Tunnels func() tunnel.Env
	// Approver asks a person to approve clusters on the streams.
	Approver func() Approver
	// Manager is the token manager for a cluster's access flags (access.go).
	Manager func(a *AccessFlags) (*credential.Manager, error)
	// OpenTokenStore opens the token store the access flags select, and
	// says its cache directory (access.go).
	OpenTokenStore func(a *AccessFlags) (tokenstore.Store, string, error)
}

// NewFactory returns the Factory bound to the real environment, clock,
// network and streams: the one place a Factory is built.
func NewFactory(streams genericiooptions.IOStreams) *Factory {
	f := &Factory{IOStreams: streams, Program: ExecCommand, Getenv: os.Getenv, Environ: os.Environ, Now: time.Now,
		Secrets: &redact.Secrets{}, HTTPClient: &http.Client{Timeout: 30 * time.Second},
		StdinIsTTY: IsTerminal(streams.In), StdoutIsTTY: IsTerminal(streams.Out), StderrIsTTY: IsTerminal(streams.ErrOut)}
	f.Browser = func(command, url string) error {
		return loginui.SystemBrowser{ErrOut: f.ErrOut, Getenv: f.Getenv, Caller: f.Caller}.Open(command, url)
	}
	f.Issuer = func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error) {
		p, err := oidc.Discover(ctx, s, nil)
		if err != nil {
			return nil, err
		}
		p.SetClock(f.Now)
		return p, nil
	}
	f.Caller = func() *callerconfig.Caller {
		if c := callerconfig.Parent(); c != nil {
			return c
		}
		return callerconfig.Own(f.Getenv)
	}
	f.Logger = func() *slog.Logger {
		if f.Verbosity <= 0 {
			return slog.New(slog.DiscardHandler)
		}
		return stderrLogger(f, slog.LevelDebug)
	}
	f.WarnLogger = func() *slog.Logger {
		if f.Verbosity > 0 {
			return stderrLogger(f, slog.LevelDebug)
		}
		return stderrLogger(f, slog.LevelWarn)
	}
	f.KubeContext = func() string { return f.Context }
	f.KubeconfigStore = func() *kubeconfig.Store { return &kubeconfig.Store{ExplicitPath: f.Kubeconfig, Getenv: f.Getenv} }
	f.Registry = func() (*profile.Registry, error) {
		path, err := profile.DefaultRegistryPath(f.Getenv)
		if err != nil {
			return nil, err
		}
		return &profile.Registry{Path: path}, nil
	}
	f.Tunnels = func() tunnel.Env {
		return tunnel.Env{Log: f.WarnLogger(), Secrets: f.Secrets, Kubeconfig: f.KubeconfigStore()}
	}
	f.Approver = func() Approver { return Approver{IO: loginIO(f), Now: f.Now, Getenv: f.Getenv} }
	f.RESTConfig = func(timeout time.Duration) (*rest.Config, error) { return restConfig(f, timeout) }
	f.Manager = func(a *AccessFlags) (*credential.Manager, error) { return newManager(f, a) }
	f.OpenTokenStore = func(a *AccessFlags) (tokenstore.Store, string, error) { return openTokenStore(f, a) }
	return f
}

// AddFlags binds the persistent flags to f: kubectl's names for the
// kubeconfig ones, so `kubectl securekapi --kubeconfig ...` reads as users
// expect.
func AddFlags(fs *pflag.FlagSet, f *Factory) {
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&f.Context, "context", "", "The kubeconfig context to use")
	fs.IntVarP(&f.Verbosity, "verbosity", "v", 0, "Log level for debug output on stderr (0-10); tokens are always redacted")
}

// stderrLogger writes lines at level and up to stderr, redacted of every
// secret the process has held (Secrets).
func stderrLogger(f *Factory, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(f.Secrets.Writer(f.ErrOut), &slog.HandlerOptions{Level: level}))
}
