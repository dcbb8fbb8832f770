// Package cmdutil is what securekapi's commands share: the Factory that
// hands out the process's streams (and says which are terminals), clock,
// environment, kubeconfig store, cluster registry, token stores, HTTP
// client, browser and OIDC issuer, and the few pieces of wiring more than
// one command uses (access flags, approvals, the endpoint check, tunnels,
// output formats). The commands themselves are in pkg/cmd/<name>; the
// work is in pkg/kubeconfig, pkg/trust, pkg/credential and pkg/localproxy.
package cmdutil

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/profile"
)

// Factory holds the global flags and hands out what commands share. Every
// side effect is a field, so a test builds a Factory with buffers, a fixed
// clock, a fake environment and fakes for the network; nil fields get the
// real thing.
type Factory struct {
	genericiooptions.IOStreams

	// Kubeconfig is --kubeconfig; empty means KUBECONFIG or ~/.kube/config,
	// following client-go's loading rules.
	Kubeconfig string
	// Context is --context, for the commands that read the current context.
	Context string
	// Verbosity is -v; debug logs go to stderr and never carry tokens.
	Verbosity int

	// Program is the name the user invoked: kubectl-securekapi (directly,
	// or through kubectl's plugin path) or securekapi. Empty means
	// kubectl-securekapi.
	Program string

	// Getenv is the process environment.
	Getenv func(string) string
	// Environ is the same environment as a list, which the commands run
	// and shell start inherit (ChildEnv); nil means os.Environ.
	Environ func() []string
	// Now is the clock.
	Now func() time.Time

	// Secrets are the tokens the process has held; errors and logs are
	// redacted of them. Nil remembers nothing.
	Secrets *redact.Secrets

	// HTTPClient fetches what commands read over https (profiles); nil
	// means a client with a 30 s timeout. Its TLS verification is never off.
	HTTPClient *http.Client
	// Browser opens a login URL; nil means --browser-command, else the
	// system's opener (xdg-open, open, rundll32).
	Browser func(command, url string) error
	// Issuer discovers an OIDC provider; nil means oidc.Discover over the
	// network, verifying ID tokens against Now.
	Issuer func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	// Caller is the client that ran the credential plugin (its kubeconfig
	// files and flags); nil means the parent process where the system
	// tells (callerconfig.Parent), else Getenv standing in.
	Caller func() *callerconfig.Caller

	// Whether each stream is a terminal, when a test says (SetStdoutTTY
	// and friends); unset asks the stream (terminal.go).
	stdinTTY, stdoutTTY, stderrTTY ttyOverride
}

// CallerConfig is the client that ran the credential plugin: Caller, else
// the parent process, else the Factory's own environment.
func (f *Factory) CallerConfig() *callerconfig.Caller {
	if f.Caller != nil {
		return f.Caller()
	}
	if c := callerconfig.Parent(); c != nil {
		return c
	}
	return callerconfig.Own(f.Getenv)
}

// NewFactory returns a Factory bound to the real environment and clock.
func NewFactory(streams genericiooptions.IOStreams) *Factory {
	return &Factory{IOStreams: streams, Getenv: os.Getenv, Environ: os.Environ, Now: time.Now, Secrets: &redact.Secrets{}}
}

// ChildEnv is the environment for a command securekapi starts (run's,
// shell's): the Factory's environment with set ("KEY=value") on top.
func (f *Factory) ChildEnv(set ...string) []string {
	environ := f.Environ
	if environ == nil {
		environ = os.Environ
	}
	return append(environ(), set...)
}

// ProgramName is the name help and completion show for the root command.
func (f *Factory) ProgramName() string {
	if f.Program == "" {
		return ExecCommand
	}
	return f.Program
}

// AddFlags binds the persistent flags: kubectl's names for the kubeconfig
// ones, so `kubectl securekapi --kubeconfig ...` reads as users expect.
func (f *Factory) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&f.Context, "context", "", "The kubeconfig context to use")
	fs.IntVarP(&f.Verbosity, "verbosity", "v", 0, "Log level for debug output on stderr (0-10); tokens are always redacted")
}

// Logger returns a stderr logger at the chosen verbosity: -v 1 and up shows
// debug lines. It writes nothing at the default verbosity.
func (f *Factory) Logger() *slog.Logger {
	if f.Verbosity <= 0 {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return f.stderrLogger(slog.LevelDebug)
}

// WarnLogger returns a stderr logger that shows warnings at the default
// verbosity, and debug lines too at -v 1 and up: for what serves in the
// background while the user works (a tunnel), whose failures they must see.
func (f *Factory) WarnLogger() *slog.Logger {
	level := slog.LevelWarn
	if f.Verbosity > 0 {
		level = slog.LevelDebug
	}
	return f.stderrLogger(level)
}

// stderrLogger writes lines at level and up to stderr, redacted of every
// secret the process has held (Secrets).
func (f *Factory) stderrLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(f.Secrets.Writer(f.ErrOut), &slog.HandlerOptions{Level: level}))
}

// KubeconfigStore is the kubeconfig --kubeconfig or KUBECONFIG names, read
// and written with client-go's merge rules under kubectl's lock.
func (f *Factory) KubeconfigStore() *kubeconfig.Store {
	return &kubeconfig.Store{ExplicitPath: f.Kubeconfig, Getenv: f.Getenv}
}

// Registry is the user's cluster registry, where SECUREKAPI_CONFIG or else
// the user config directory puts it: the one way a command finds it.
func (f *Factory) Registry() (*profile.Registry, error) {
	path, err := profile.DefaultRegistryPath(f.Getenv)
	if err != nil {
		return nil, err
	}
	return &profile.Registry{Path: path}, nil
}

// HTTP is the HTTP client for https fetches.
func (f *Factory) HTTP() *http.Client {
	if f.HTTPClient != nil {
		return f.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Discover finds the OIDC provider for s through the Factory's issuer.
func (f *Factory) Discover(ctx context.Context, s oidc.Settings) (oidc.Issuer, error) {
	if f.Issuer != nil {
		return f.Issuer(ctx, s)
	}
	p, err := oidc.Discover(ctx, s, nil)
	if err != nil {
		return nil, err
	}
	if f.Now != nil {
		p.SetClock(f.Now)
	}
	return p, nil
}
