// Package run is `kubectl securekapi run`: it runs one command (kubectl, helm,
// a script) with the cluster reached through its mTLS tunnel, for as long as
// the command runs.
package run

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// RunOptions runs one command with kubectl routed through the cluster's
// tunnel, for as long as the command runs.
type RunOptions struct {
	genericiooptions.IOStreams
	// Environ is what the command inherits, with KUBECONFIG on top.
	Environ  func() []string
	Registry func() (*profile.Registry, error)
	Tunnels  func() tunnel.Env
	Name     string
	Listen   string
	Command  []string
}

// NewCmdRun returns the run command.
func NewCmdRun(g *cmdutil.Factory) *cobra.Command { return newCmdRun(g, nil) }

// newCmdRun wires the flags to RunOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdRun(g *cmdutil.Factory, runF func(*RunOptions) error) *cobra.Command {
	o := &RunOptions{IOStreams: g.IOStreams, Environ: g.Environ, Registry: g.Registry, Tunnels: g.Tunnels}
	cmd := &cobra.Command{
		Use:   "run NAME -- COMMAND [ARGS...]",
		Short: "Run a command (kubectl, helm, a script) with the cluster reached through its mTLS tunnel",
		Long: `Start the loopback proxy in-process, run COMMAND with KUBECONFIG pointing at a
temporary kubeconfig routed through it, and stop the proxy when COMMAND ends.
The exit code is COMMAND's. The temporary files are removed, also on Ctrl-C.`,
		Example: `  kubectl securekapi run cluster-a -- kubectl get pods -A
  kubectl securekapi run cluster-a -- helm upgrade --install web ./chart
  kubectl securekapi run cluster-a -- ./deploy.sh`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: cmdutil.CompleteClusterName(g.Registry),
		RunE:              cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:0", "Loopback address for the proxy (port 0 picks a free one)")
	return cmd
}

// Complete splits NAME from the command after "--".
func (o *RunOptions) Complete(c *cobra.Command, args []string) error {
	dash := c.ArgsLenAtDash()
	if dash != 1 {
		return fmt.Errorf("usage: kubectl securekapi run NAME -- COMMAND [ARGS...] (put -- between the cluster name and the command)")
	}
	o.Name, o.Command = args[0], args[1:]
	return nil
}

// Validate checks that there is a command to run and a place to listen.
func (o *RunOptions) Validate() error {
	return cmdutil.ValidateChild(o.Command, o.Listen, "kubectl securekapi run NAME -- COMMAND [ARGS...]")
}

// Run starts the tunnel, runs the command and passes its exit code on.
func (o *RunOptions) Run(ctx context.Context) error {
	// SIGTERM is passed on to the child, whose exit ends the run.
	s, err := cmdutil.OpenSession(ctx, o.Registry, o.Tunnels(), o.Name, o.Listen, true)
	if err != nil {
		return err
	}
	defer s.Close()
	return cmdutil.RunChild(o.IOStreams, o.Command, append(o.Environ(), "KUBECONFIG="+s.Kubeconfig))
}
