package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// RunOptions runs one command with kubectl routed through the cluster's
// tunnel, for as long as the command runs.
type RunOptions struct {
	*GlobalOptions
	Name    string
	Listen  string
	Command []string
}

// NewCmdRun returns the run command.
func NewCmdRun(g *GlobalOptions) *cobra.Command {
	o := &RunOptions{GlobalOptions: g}
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
		ValidArgsFunction: completeClusterName(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
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

// Run starts the tunnel, runs the command and passes its exit code on.
func (o *RunOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := registeredCluster(o.GlobalOptions, o.Name)
	if err != nil {
		return err
	}
	p, err := startTunnel(ctx, o.GlobalOptions, c, o.Listen)
	if err != nil {
		return err
	}
	defer stopTunnel(p)
	dir, path, err := privateKubeconfig(o.GlobalOptions, o.Name, p.URL())
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	return runChild(o.IOStreams, o.Command, append(os.Environ(), "KUBECONFIG="+path))
}

// runChild runs argv on the streams with env and returns its exit code as
// an ExitError (128+N when a signal ended it), so the caller's deferred
// cleanup always runs. Ctrl-C reaches the child from the terminal; we wait
// for it to finish. SIGTERM (from a CI runner, say) and SIGHUP (the
// terminal closed) are passed on to it.
func runChild(streams genericiooptions.IOStreams, argv []string, env []string) error {
	child := exec.Command(argv[0], argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = streams.In, streams.Out, streams.ErrOut
	child.Env = env
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	if err := child.Start(); err != nil {
		signal.Stop(signals)
		return fmt.Errorf("run %s: %w", argv[0], err)
	}
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for s := range signals {
			if s != os.Interrupt {
				_ = child.Process.Signal(s)
			}
		}
	}()
	err := child.Wait()
	signal.Stop(signals)
	close(signals)
	<-forwarded
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code := exit.ExitCode()
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			code = 128 + int(status.Signal())
		}
		return &ExitError{Code: code}
	}
	return err
}
