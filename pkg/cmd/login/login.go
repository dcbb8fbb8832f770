// Package login is `kubectl securekapi login`: an OIDC login (browser with
// PKCE, or the device flow) whose tokens go to the OS keyring.
package login

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/loginui"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// LoginOptions logs in to a cluster's OIDC issuer and caches the tokens.
type LoginOptions struct {
	genericiooptions.IOStreams
	Getenv          func(string) string
	Now             func() time.Time
	KubeContext     func() string
	KubeconfigStore func() *kubeconfig.Store
	Approver        func() cmdutil.Approver
	Manager         func(a *cmdutil.AccessFlags) (*credential.Manager, error)

	Access cmdutil.AccessFlags
	Name   string
	// Approve approves the cluster to receive this login without asking.
	Approve bool
}

// NewCmdLogin returns the login command.
func NewCmdLogin(g *cmdutil.Factory) *cobra.Command { return newCmdLogin(g, nil) }

// newCmdLogin wires the flags to LoginOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdLogin(g *cmdutil.Factory, runF func(*LoginOptions) error) *cobra.Command {
	o := &LoginOptions{IOStreams: g.IOStreams, Getenv: g.Getenv, Now: g.Now, KubeContext: g.KubeContext, KubeconfigStore: g.KubeconfigStore, Approver: g.Approver, Manager: g.Manager}
	cmd := &cobra.Command{
		Use:   "login [CLUSTER]",
		Short: "Log in with OIDC and keep the tokens in the OS keyring",
		Long: `Log in to a cluster's OIDC issuer. CLUSTER is a kubeconfig context written by
"kubectl securekapi use" (default: the current context); its OIDC settings are
read from the context's exec stanza, or given with --oidc-* flags.

The browser flow is authorization code with PKCE through a loopback callback.
The device flow (RFC 8628) prints a URL and a code to approve from any other
device: use it over SSH, in containers and CI. --grant auto picks the device
flow when no browser can be opened.

Single sign-on: one login serves every cluster with the same issuer, client
and scopes, but kubectl only gets a token for a cluster you approved for
that login. "login CLUSTER" typed on a terminal approves CLUSTER (its server
and pins are shown). "login" with no name asks first. Off a terminal (CI,
scripts) pass --approve; without it the login is kept but approves nothing.
"kubectl securekapi status" lists what is approved; "logout" forgets it.`,
		Example: `  # Log in to the current context's cluster with the browser
  kubectl securekapi login

  # Log in to cluster-a from an SSH session or a CI job
  kubectl securekapi login cluster-a --grant device-code

  # In a script: log in and approve cluster-a without a terminal
  kubectl securekapi login cluster-a --approve

  # Without a kubeconfig entry
  kubectl securekapi login --oidc-issuer-url https://dex.example.com --oidc-client-id kubectl`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteClusterName(g.Registry),
		RunE:              cmdutil.RunE(o, runF),
	}
	o.Access.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.Approve, "approve", false, cmdutil.ApproveFlagHelp)
	return cmd
}

// Complete fills the OIDC settings from the kubeconfig context when the
// flags do not give them.
func (o *LoginOptions) Complete(c *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	if err := cmdutil.CompleteAccessFromKubeconfig(o.KubeconfigStore(), o.KubeContext(), c.Flags(), &o.Access, o.Name); err != nil {
		return err
	}
	o.Access.ResolveAuto(o.Getenv) // in a CI job, auto is the CI grant
	return nil
}

// Validate checks the settings.
func (o *LoginOptions) Validate() error { return o.Access.Validate() }

// Run logs in and reports who the user is.
func (o *LoginOptions) Run(ctx context.Context) error {
	m, err := o.Manager(&o.Access)
	if err != nil {
		return err
	}
	settings := o.Access.Settings()
	if err := m.StoreReady(o.Access.Key()); err != nil {
		return err
	}
	if err := o.approve(); err != nil {
		return err
	}
	if o.Access.MachineGrant() {
		return o.mintNow(ctx, m)
	}
	provider, err := m.Discover(ctx, settings)
	if err != nil {
		return err
	}
	tokens, err := m.Login(ctx, provider)
	if err != nil {
		return err
	}
	if _, err := m.Save(o.Access.Key(), tokens); err != nil {
		return err
	}
	c := tokens.Claims
	fmt.Fprintf(o.ErrOut, "Logged in to %s as %s\n  subject: %s\n  groups:  %s\n  expires: %s (%s)\n  tokens kept in: %s\n",
		safetext.Escape(settings.Issuer), safetext.Escape(cmdutil.OrDash(c.Email)), safetext.Escape(c.Subject), cmdutil.OrDash(strings.Join(safetext.EscapeAll(c.Groups), ", ")),
		c.Expiry.Local().Format(time.RFC3339), c.Expiry.Sub(o.Now()).Round(time.Second), m.Store.Location())
	if tokens.RefreshToken == "" {
		fmt.Fprintf(o.ErrOut, "warning: the issuer returned no refresh token, so you will have to log in again when this token expires; if it supports refresh, add --oidc-extra-scope offline_access (or the provider's equivalent) to the cluster's settings\n")
	}
	if c.Email == "" && len(c.Groups) == 0 {
		fmt.Fprintf(o.ErrOut, "note: the ID token carries no email and no groups; if the API server maps users by those claims, add --oidc-extra-scope email --oidc-extra-scope groups (or what the platform owner says)\n")
	}
	return nil
}

// approve asks to approve the cluster logged in for: "login NAME" typed on
// a terminal is that approval; "login" alone asks; off a terminal only
// --approve approves. A login given only --oidc-* flags names no cluster.
func (o *LoginOptions) approve() error {
	if o.Access.Server == "" && len(o.Access.Pins) == 0 {
		return nil
	}
	cand, err := cmdutil.CandidateFromAccess(o.Access)
	if err != nil {
		return err
	}
	approved := o.Approve || (o.Name != "" && o.Approver().IO.CanPrompt())
	p, err := o.Approver().Prompt(&o.Access, approved, "login")
	if err != nil {
		return err
	}
	_, err = p.Run([]loginui.Candidate{cand})
	return err
}
