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
// Errors go to stderr only: stdout carries data (ExecCredential, -o json).
func Execute(streams genericiooptions.IOStreams) int {
	return execute(streams, os.Args[1:])
}

func execute(streams genericiooptions.IOStreams, args []string) int {
	root := NewCmdRoot(streams)
	root.SetArgs(args)
	if len(args) > 0 && isCompletion(args[0]) {
		// Completion scripts and candidates are data a shell reads from
		// stdout (release.sh, kubectl_complete-securekapi); what else
		// cobra prints, help and usage, stays a message on stderr.
		root.SetOut(streams.Out)
	}
	if err := root.Execute(); err != nil {
		var exit *ExitError
		if errors.As(err, &exit) {
			if exit.Err != nil {
				fmt.Fprintf(streams.ErrOut, "error: %v\n", exit.Err)
			}
			return exit.Code
		}
		fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
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
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	g := NewGlobalOptions(streams)
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
		root.Use = "kubectl securekapi"
	}
	root.SetIn(streams.In)
	root.SetOut(streams.ErrOut) // help and usage are messages, not data
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
		NewCmdExpose(g),
		NewCmdProfile(g),
	)
	return root
}

// isCompletion reports whether arg is cobra's completion command or its
// hidden request command.
func isCompletion(arg string) bool {
	return arg == "completion" || arg == cobra.ShellCompRequestCmd || arg == cobra.ShellCompNoDescRequestCmd
}

// isKubectlPlugin reports whether kubectl's plugin discovery started us, so
// help text shows the command as users type it.
func isKubectlPlugin() bool {
	_, ok := os.LookupEnv("KUBECTL_PLUGINS_CALLER")
	return ok
}
