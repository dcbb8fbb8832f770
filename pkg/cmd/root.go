// Package cmd is securekapi's command tree: the root command, which wires
// the commands of pkg/cmd/<name> to one cmdutil.Factory, and Execute. Each
// command package has an Options struct with Complete, Validate and Run,
// takes IOStreams from the Factory, and keeps its cobra wiring thin; the
// work itself lives in the packages below (pkg/kubeconfig, pkg/trust,
// pkg/credential, pkg/localproxy, pkg/tunnel, pkg/profile, pkg/expose,
// pkg/kubeapi, pkg/authnconfig).
//
// The commands take kubectl's standard kubeconfig flags (--kubeconfig,
// --context) as plain flags rather than through
// genericclioptions.ConfigFlags: ConfigFlags links in the client-go scheme,
// discovery and kustomize, whose package init costs every start of this
// program about 3 ms and 35 MB of RSS. kubectl's everyday calls no longer
// start it (the small kubectl-securekapi answers a cached token itself), but
// a refresh, a login and every command a person types still do. The flags
// are the same ones kubectl users know.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/credentialcmd"
	"github.com/securekapi/securekapi/pkg/cmd/doctor"
	"github.com/securekapi/securekapi/pkg/cmd/exposecmd"
	"github.com/securekapi/securekapi/pkg/cmd/importcmd"
	"github.com/securekapi/securekapi/pkg/cmd/login"
	"github.com/securekapi/securekapi/pkg/cmd/logout"
	"github.com/securekapi/securekapi/pkg/cmd/pin"
	"github.com/securekapi/securekapi/pkg/cmd/profilecmd"
	"github.com/securekapi/securekapi/pkg/cmd/proxy"
	"github.com/securekapi/securekapi/pkg/cmd/run"
	"github.com/securekapi/securekapi/pkg/cmd/shell"
	"github.com/securekapi/securekapi/pkg/cmd/status"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/cmd/versioncmd"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/execplugin"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// ProcessStreams returns the process's standard streams.
func ProcessStreams() genericiooptions.IOStreams {
	return genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// Execute runs the root command with os.Args and returns the exit code.
// The commands' context ends at the first SIGINT or SIGTERM, so network
// calls, logins and proxies stop cleanly; a second one ends the process as
// it would have. A signal the process started with ignored (nohup, a
// background job) stays ignored.
// program is the name the user invoked, which help and completion show.
func Execute(streams genericiooptions.IOStreams, program string) int {
	return ExecuteTree(streams, program, NewCmdRoot)
}

// ExecuteTree is Execute for the command tree newRoot builds:
// securekapi-admin's (cmd/securekapi-admin), which runs the commands that
// link kube-apiserver's code, with the same signals, errors and redaction.
func ExecuteTree(streams genericiooptions.IOStreams, program string, newRoot func(*cmdutil.Factory) *cobra.Command) int {
	ctx, stop := signalContext()
	defer stop()
	f := cmdutil.NewFactory(streams)
	if program != "" {
		f.Program = program
	}
	return executeTree(ctx, f, os.Args[1:], newRoot)
}

// signalContext is a context that SIGINT or SIGTERM ends, once.
func signalContext() (context.Context, context.CancelFunc) {
	var signals []os.Signal
	for _, s := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		if !signal.Ignored(s) {
			signals = append(signals, s)
		}
	}
	if len(signals) == 0 {
		return context.WithCancel(context.Background())
	}
	ctx, stop := signal.NotifyContext(context.Background(), signals...)
	context.AfterFunc(ctx, stop) // the next signal has its usual effect
	return ctx, stop
}

// execute runs the command tree on args; from a kubeconfig exec stanza
// (KUBERNETES_EXEC_INFO set), only the credential command. Errors go to
// stderr only: stdout carries data (ExecCredential, -o json). Their text is
// redacted of every token the process held: an identity provider's
// error_description or a library's error may quote one. Then every control
// character but the line breaks between an error's lines is escaped
// (safetext.EscapeLines): an error may quote a profile, a kubeconfig or an
// identity provider.
func execute(ctx context.Context, g *cmdutil.Factory, args []string) int {
	return executeTree(ctx, g, args, NewCmdRoot)
}

// executeTree is execute for the tree newRoot builds.
func executeTree(ctx context.Context, g *cmdutil.Factory, args []string, newRoot func(*cmdutil.Factory) *cobra.Command) int {
	// Before cobra parses anything, so no flag, hook or hidden command
	// (completion, help) runs for an exec stanza that names another command.
	if err := execplugin.CheckExecOnly(args, g.Getenv); err != nil {
		fmt.Fprintf(g.ErrOut, "error: %s\n", err)
		return 1
	}
	root := newRoot(g)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var exit *cmdutil.ExitError
		if errors.As(err, &exit) {
			if exit.Err != nil {
				fmt.Fprintf(g.ErrOut, "error: %s\n", safetext.EscapeLines(g.Secrets.Redact(exit.Err.Error())))
			}
			return exit.Code
		}
		fmt.Fprintf(g.ErrOut, "error: %s\n", safetext.EscapeLines(g.Secrets.Redact(err.Error())))
		return 1
	}
	return 0
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(g *cmdutil.Factory) *cobra.Command {
	root := NewCmdBareRoot(g)
	root.AddCommand(
		versioncmd.NewCmdVersion(g),
		credentialcmd.NewCmdCredential(g),
		login.NewCmdLogin(g),
		logout.NewCmdLogout(g),
		status.NewCmdStatus(g),
		add.NewCmdAdd(g),
		use.NewCmdUse(g),
		importcmd.NewCmdImport(g),
		pin.NewCmdPin(g),
		doctor.NewCmdDoctor(g),
		proxy.NewCmdProxy(g),
		run.NewCmdRun(g),
		shell.NewCmdShell(g),
		exposecmd.NewCmdExpose(g),
		profilecmd.NewCmdProfile(g),
	)
	addCompletionCommand(root)
	return root
}

// NewCmdBareRoot is the root command with its flags, streams and help but
// no subcommands: NewCmdRoot's, and securekapi-admin's, which parses the
// calls the full CLI hands it exactly as the full CLI does.
func NewCmdBareRoot(g *cmdutil.Factory) *cobra.Command {
	streams := g.IOStreams
	root := &cobra.Command{
		Use:   g.Program,
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
	cmdutil.AddFlags(root.PersistentFlags(), g)
	return root
}

// isKubectlPlugin reports whether kubectl's plugin discovery started us, so
// help text shows the command as users type it.
func isKubectlPlugin() bool {
	_, ok := os.LookupEnv("KUBECTL_PLUGINS_CALLER")
	return ok
}
