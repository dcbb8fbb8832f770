// Package shell is `kubectl securekapi shell`: a shell whose kubectl works on
// one cluster, through a kubeconfig of its own, leaving the user's current
// context alone.
package shell

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// ClusterEnv names the cluster a `shell` works on, for prompts and scripts.
const ClusterEnv = "SECUREKAPI_CLUSTER"

// ShellOptions starts a shell (or one command) whose kubectl works on one
// cluster through a private kubeconfig, so two terminals can work on two
// clusters without changing each other's current context.
type ShellOptions struct {
	genericiooptions.IOStreams
	// Getenv reads SHELL; Environ is what the shell inherits, with
	// KUBECONFIG and the cluster's name on top.
	Getenv   func(string) string
	Environ  func() []string
	Registry func() (*profile.Registry, error)
	Tunnels  func() tunnel.Env
	Name     string
	Listen   string
	Command  []string // empty: the user's $SHELL
	// interactive is set when no command was given: the shell says where
	// it is and when it leaves.
	interactive bool
}

// NewCmdShell returns the shell command.
func NewCmdShell(g *cmdutil.Factory) *cobra.Command { return newCmdShell(g, nil) }

// newCmdShell wires the flags to ShellOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdShell(g *cmdutil.Factory, runF func(*ShellOptions) error) *cobra.Command {
	o := &ShellOptions{IOStreams: g.IOStreams, Getenv: g.Getenv, Environ: g.Environ, Registry: g.Registry, Tunnels: g.Tunnels}
	cmd := &cobra.Command{
		Use:   "shell NAME [-- COMMAND [ARGS...]]",
		Short: "Start a shell whose kubectl works on one cluster, leaving kubeconfig's current context alone",
		Long: `Start your shell ($SHELL), or COMMAND, with KUBECONFIG pointing at a private
kubeconfig that holds only NAME's context (as "use NAME" wrote it) and makes it
current, and with ` + ClusterEnv + `=NAME for your prompt. Another terminal can
work on another cluster at the same time; neither changes the other's context
or your kubeconfig's current-context. A tunneled cluster gets its loopback
proxy for as long as the shell runs, as with "run". The private kubeconfig is
removed when the shell exits, also when it is killed. The exit code is the
shell's.`,
		Example: `  kubectl securekapi shell cluster-a
  kubectl securekapi shell cluster-a -- kubectl get pods -A
  # In your prompt (bash): PS1='${` + ClusterEnv + `:+[$` + ClusterEnv + `] }'"$PS1"`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteClusterName(g.Registry),
		RunE:              cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:0", "Loopback address for a tunneled cluster's proxy (port 0 picks a free one)")
	return cmd
}

// Complete takes NAME, the command after "--" if any, else the user's shell.
func (o *ShellOptions) Complete(c *cobra.Command, args []string) error {
	dash := c.ArgsLenAtDash()
	switch {
	case dash == -1 && len(args) == 1:
		o.Name = args[0]
	case dash == 1 && len(args) > 1:
		o.Name, o.Command = args[0], args[1:]
	default:
		return fmt.Errorf("usage: kubectl securekapi shell NAME [-- COMMAND [ARGS...]] (one cluster name; put -- before a command)")
	}
	if len(o.Command) == 0 {
		o.Command, o.interactive = []string{o.shell()}, true
	}
	return nil
}

// Validate checks that there is a command (or shell) to run.
func (o *ShellOptions) Validate() error {
	return cmdutil.ValidateChild(o.Command, o.Listen, "kubectl securekapi shell NAME [-- COMMAND [ARGS...]]")
}

// Run opens the tunnel if the cluster has one, writes the private
// kubeconfig, runs the shell, and removes both when it ends.
func (o *ShellOptions) Run(ctx context.Context) error {
	s, err := cmdutil.OpenSession(ctx, o.Registry, o.Tunnels(), o.Name, o.Listen, false)
	if err != nil {
		return err
	}
	path := s.Kubeconfig
	if o.interactive {
		fmt.Fprintf(o.ErrOut, "Working on %s in a new %s (KUBECONFIG=%s, %s=%s); exit to leave.\n", o.Name, o.Command[0], path, ClusterEnv, o.Name)
	}
	err = cmdutil.RunChild(o.IOStreams, o.Command, append(o.Environ(), "KUBECONFIG="+path, ClusterEnv+"="+o.Name))
	// Closed before the line below says so: whoever reads it and looks
	// finds the kubeconfig gone. (RunChild returns whatever the child
	// does, so nothing between Open and here skips this.)
	s.Close()
	if o.interactive {
		fmt.Fprintf(o.ErrOut, "Left the %s shell; its kubeconfig is removed.\n", o.Name)
	}
	return err
}

// shell is the user's login shell, else /bin/sh.
func (o *ShellOptions) shell() string {
	if sh := o.Getenv("SHELL"); sh != "" {
		return sh
	}
	return "/bin/sh"
}
