// Package credentialcmd is `kubectl securekapi credential`, the full CLI's
// exec credential plugin: it hands kubectl a token for the bound server only,
// logging in or refreshing when the small exec program hands the call over.
package credentialcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/execplugin"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
)

// CredentialOptions is the exec credential plugin kubeconfig calls on every
// kubectl run. It writes exactly one ExecCredential to stdout and nothing
// else; every message goes to stderr.
type CredentialOptions struct {
	*cmdutil.Factory
	Access  cmdutil.AccessFlags
	request *execplugin.Request
	binding binding.Binding
}

// NewCmdCredential returns the credential command.
func NewCmdCredential(g *cmdutil.Factory) *cobra.Command { return newCmdCredential(g, nil) }

// newCmdCredential wires the flags to CredentialOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdCredential(g *cmdutil.Factory, runF func(*CredentialOptions) error) *cobra.Command {
	o := &CredentialOptions{Factory: g}
	cmd := &cobra.Command{
		Use:   "credential",
		Short: "Exec credential plugin: print a token for kubectl (called by kubeconfig)",
		Long: `Print an ExecCredential with a cached, refreshed or (when kubectl runs
interactively) freshly logged-in OIDC token. kubectl calls this through the
kubeconfig exec stanza that "kubectl securekapi use" writes; the token is only
released when the server and CA kubectl is using match --server and --pin,
and only to a cluster you approved for that login (single sign-on shares one
login among the clusters you approve). An unapproved cluster fails at once,
naming the command that approves it; kubectl never asks for approval, even
on a terminal.`,
		Example: `  # The exec stanza "use" writes (abridged):
  #   exec:
  #     apiVersion: client.authentication.k8s.io/v1
  #     command: kubectl-securekapi
  #     args: [credential, --cluster-name, cluster-a, --oidc-issuer-url, https://dex.example.com,
  #            --oidc-client-id, kubectl, --server, https://kapi.example.com, --pin, sha256:...]
  #     interactiveMode: IfAvailable
  #     provideClusterInfo: true`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, runF),
	}
	o.Access.AddFlags(cmd.Flags())
	return cmd
}

// Complete reads KUBERNETES_EXEC_INFO.
func (o *CredentialOptions) Complete(*cobra.Command, []string) error {
	req, err := execplugin.ReadRequest(o.Getenv)
	if err != nil {
		return err
	}
	o.request = req
	o.Access.ResolveAuto(o.Getenv) // as the fast path does
	o.binding, err = o.Access.Binding()
	return err
}

// Validate checks the flags and the token binding before any token is read,
// with the checks the small exec program's fast path runs too.
func (o *CredentialOptions) Validate() error {
	if err := o.Access.Validate(); err != nil { // includes the extra parameters a login would send
		return err
	}
	if err := execplugin.Checks(&o.Access.Flags, o.binding, o.request); err != nil {
		return err
	}
	// Only inline CA data is bound: a CA file is read again by kubectl after
	// this check (callerconfig).
	return callerconfig.Check(o.CallerConfig(), o.request.Cluster.Server, func(data []byte, server string) ([]string, error) {
		return kubeconfig.CAFileClusters(data, server, binding.SameServer)
	})
}

// Run writes the ExecCredential.
func (o *CredentialOptions) Run(ctx context.Context) error {
	m, err := o.Manager(&o.Access)
	if err != nil {
		return err
	}
	ts, err := m.Token(ctx, o.Access.TokenRequest(o.Factory, o.binding, o.request.Interactive))
	if err != nil {
		var login *credential.ErrLoginRequired
		var notApproved *binding.ErrNotApproved
		if errors.As(err, &login) || errors.As(err, &notApproved) {
			return err
		}
		return fmt.Errorf("get a token for %s: %w", o.Access.Issuer, err)
	}
	return execplugin.WriteCredential(o.Out, o.request.APIVersion, ts.IDToken, m.ExpiryFor(ts))
}
