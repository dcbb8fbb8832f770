// Package cmd holds securekapi's commands. Each command has an Options struct
// with Complete, Validate and Run, takes IOStreams, and keeps its cobra wiring
// thin; the work itself lives in pkg/kubeconfig, pkg/trust, pkg/credential and
// pkg/localproxy.
//
// The commands take kubectl's standard kubeconfig flags from clientcmd
// directly rather than through genericclioptions.ConfigFlags: ConfigFlags
// links in the client-go scheme, discovery and kustomize, whose package init
// costs every exec-credential call (run on every kubectl call) about 3 ms and
// 35 MB of RSS. The flags are the same ones kubectl users know.
package cmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// ProcessStreams returns the process's standard streams.
func ProcessStreams() genericiooptions.IOStreams {
	return genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// Execute runs the root command with os.Args and returns the exit code.
func Execute(streams genericiooptions.IOStreams) int {
	return execute(NewGlobalOptions(streams), os.Args[1:])
}

// execute runs the command tree on args. Errors go to stderr only: stdout
// carries data (ExecCredential, -o json). Their text is redacted of every
// token the process held: an identity provider's error_description or a
// library's error may quote one.
func execute(g *GlobalOptions, args []string) int {
	root := NewCmdRoot(g)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		var exit *ExitError
		if errors.As(err, &exit) {
			if exit.Err != nil {
				fmt.Fprintf(g.ErrOut, "error: %s\n", g.Secrets.Redact(exit.Err.Error()))
			}
			return exit.Code
		}
		fmt.Fprintf(g.ErrOut, "error: %s\n", g.Secrets.Redact(err.Error()))
		return 1
	}
	return 0
}

// ExitError asks Execute for a specific exit code (e.g. `run` passes its
// child's code through, `doctor` exits 1 with its own report already printed).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// NewCmdRoot builds the command tree.
func NewCmdRoot(g *GlobalOptions) *cobra.Command {
	streams := g.IOStreams
	root := &cobra.Command{
		Use:   "kubectl-securekapi",
		Short: "Reach Kubernetes API servers through a trusted, pinned endpoint with OIDC",
		Long: `securekapi points kubectl at a cluster's trusted secondary endpoint, pins the
CA chain it presents, logs you in with OIDC and hands kubectl short-lived tokens
from the OS keyring. It runs as a kubectl plugin ("kubectl securekapi ...") and
as the exec credential plugin that kubeconfig calls.`,
		Example: `  # A user: register, switch kubeconfig to the pinned endpoint, log in.
  kubectl securekapi import https://platform.example.com/securekapi-profile.yaml
  kubectl securekapi use cluster-a
  kubectl securekapi login
  kubectl get ns

  # When something does not work:
  kubectl securekapi doctor`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if isKubectlPlugin() {
		// Help and usage show the command as the user typed it; Name()
		// stays kubectl-securekapi, which completion scripts register.
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl securekapi"}
	}
	root.SetIn(streams.In)
	// Help text and completion scripts are the output the user asked for,
	// so they go to stdout, as kubectl's do; errors go to stderr.
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	g.AddFlags(root.PersistentFlags())

	root.AddCommand(
		NewCmdVersion(g),
		NewCmdCredential(g),
		NewCmdLogin(g),
		NewCmdLogout(g),
		NewCmdStatus(g),
		NewCmdAdd(g),
		NewCmdUse(g),
		NewCmdImport(g),
		NewCmdPin(g),
		NewCmdDoctor(g),
		NewCmdProxy(g),
		NewCmdRun(g),
		NewCmdShell(g),
		NewCmdExpose(g),
		NewCmdProfile(g),
	)
	addCompletionCommand(root)
	return root
}

// isKubectlPlugin reports whether kubectl's plugin discovery started us, so
// help text shows the command as users type it.
func isKubectlPlugin() bool {
	_, ok := os.LookupEnv("KUBECTL_PLUGINS_CALLER")
	return ok
}
