package cmd

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/credential/tokencache"
)

// GlobalOptions are the flags and process facts every command shares. Tests
// build it directly with buffers, a fixed clock and a fake environment.
type GlobalOptions struct {
	genericiooptions.IOStreams

	// Kubeconfig is --kubeconfig; empty means KUBECONFIG or ~/.kube/config,
	// following client-go's loading rules.
	Kubeconfig string
	// Context is --context, for the commands that read the current context.
	Context string
	// Verbosity is -v; debug logs go to stderr and never carry tokens.
	Verbosity int

	// Getenv and Now are the process environment and clock.
	Getenv func(string) string
	Now    func() time.Time

	// Secrets are the tokens the process has held; errors and logs are
	// redacted of them. Nil remembers nothing.
	Secrets *tokencache.Secrets
}

// NewGlobalOptions returns options bound to the real environment and clock.
func NewGlobalOptions(streams genericiooptions.IOStreams) *GlobalOptions {
	return &GlobalOptions{IOStreams: streams, Getenv: os.Getenv, Now: time.Now, Secrets: &tokencache.Secrets{}}
}

// AddFlags binds the persistent flags: kubectl's names for the kubeconfig
// ones, so `kubectl securekapi --kubeconfig ...` reads as users expect.
func (g *GlobalOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.Kubeconfig, "kubeconfig", "", "Path to the kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&g.Context, "context", "", "The kubeconfig context to use")
	fs.IntVarP(&g.Verbosity, "verbosity", "v", 0, "Log level for debug output on stderr (0-10); tokens are always redacted")
}

// Logger returns a stderr logger at the chosen verbosity: -v 1 and up shows
// debug lines. It writes nothing at the default verbosity.
func (g *GlobalOptions) Logger() *slog.Logger {
	if g.Verbosity <= 0 {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(g.Secrets.Writer(g.ErrOut), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
