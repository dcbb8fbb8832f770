// Package proxy is `kubectl securekapi proxy`: it runs the loopback proxy
// (pkg/localproxy) that tunnels kubectl through a cluster's mTLS gateway.
package proxy

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// ProxyOptions runs the loopback proxy for one cluster in the foreground.
type ProxyOptions struct {
	genericiooptions.IOStreams
	Registry func() (*profile.Registry, error)
	Tunnels  func() tunnel.Env
	Name     string
	Listen   string
	Output   string
}

// NewCmdProxy returns the proxy command.
func NewCmdProxy(g *cmdutil.Factory) *cobra.Command { return newCmdProxy(g, nil) }

// newCmdProxy wires the flags to ProxyOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdProxy(g *cmdutil.Factory, runF func(*ProxyOptions) error) *cobra.Command {
	o := &ProxyOptions{IOStreams: g.IOStreams, Registry: g.Registry, Tunnels: g.Tunnels}
	cmd := &cobra.Command{
		Use:   "proxy NAME [--listen 127.0.0.1:PORT]",
		Short: "Run the loopback proxy that tunnels kubectl through the cluster's mTLS access gateway",
		Long: `Run an in-process proxy on loopback that carries kubectl's connections to the
cluster's endpoint through its mutual-TLS access gateway, until Ctrl-C.

It writes a temporary kubeconfig routed through the proxy (proxy-url with a
per-run secret) and prints how to use it. kubectl's own TLS to the endpoint
runs inside the tunnel, so the pinned CA is still checked end to end and the
proxy never sees tokens. Nobody else on the machine can use the proxy: it
listens on loopback, needs the per-run secret, and only reaches this cluster.`,
		Example: `  kubectl securekapi proxy cluster-a
  #   export KUBECONFIG=/tmp/securekapi-tunnel-123/kubeconfig   (printed on stderr)

  # A fixed port, and the kubeconfig on stdout for a script
  kubectl securekapi proxy cluster-a --listen 127.0.0.1:8001 -o yaml > tunnel.kubeconfig`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cmdutil.CompleteClusterName(g.Registry),
		RunE:              cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:0", "Loopback address to listen on (port 0 picks a free one)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "yaml: also print the routed kubeconfig to stdout")
	return cmd
}

// Complete takes the cluster name.
func (o *ProxyOptions) Complete(_ *cobra.Command, args []string) error {
	o.Name = args[0]
	return nil
}

// Validate checks the flags.
func (o *ProxyOptions) Validate() error {
	if o.Output != "" && o.Output != "yaml" {
		return fmt.Errorf("unknown output format %q: use -o yaml, or leave it out", o.Output)
	}
	return nil
}

// Run serves until SIGINT or SIGTERM, then stops gracefully and removes the
// temporary kubeconfig.
func (o *ProxyOptions) Run(ctx context.Context) error {
	// Its own handler, beyond the root context's: a second Ctrl-C during
	// the shutdown grace must not kill the proxy before it removes the
	// temporary kubeconfig.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := cmdutil.OpenSession(ctx, o.Registry, o.Tunnels(), o.Name, o.Listen, true)
	if err != nil {
		return err
	}
	defer s.Close()
	c, p, path := s.Cluster, s.Proxy, s.Kubeconfig
	if o.Output == "yaml" {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := o.Out.Write(data); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.ErrOut, "Tunnel for %s listening on %s, through %s (%s mode). Point kubectl at it:\n  export KUBECONFIG=%s\nPress Ctrl-C to stop.\n",
		o.Name, p.Addr(), c.Tunnel.Gateway, c.Tunnel.Mode, path)
	<-ctx.Done()
	fmt.Fprintf(o.ErrOut, "Stopping the tunnel (open streams get %s to finish).\n", tunnel.ShutdownGrace)
	return nil
}
