// Package logout is `kubectl securekapi logout`: it forgets a cluster's cached
// tokens and approvals, revoking the refresh token where the provider allows.
package logout

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// LogoutOptions removes cached tokens, revoking the refresh token at the
// provider when it advertises a revocation endpoint.
type LogoutOptions struct {
	genericiooptions.IOStreams
	Getenv          func(string) string
	Issuer          func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	KubeContext     func() string
	KubeconfigStore func() *kubeconfig.Store
	OpenTokenStore  func(a *cmdutil.AccessFlags) (tokenstore.Store, string, error)
	Registry        func() (*profile.Registry, error)

	Access cmdutil.AccessFlags
	Name   string
	All    bool
	// fromRegistry: the kubeconfig gave no settings, so Access is the
	// registered cluster's person's login. The registry does not record
	// `use --ci`, so a CI grant's approval of the server is found by the
	// server alone.
	fromRegistry bool
}

// NewCmdLogout returns the logout command.
func NewCmdLogout(g *cmdutil.Factory) *cobra.Command { return newCmdLogout(g, nil) }

// newCmdLogout wires the flags to LogoutOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdLogout(g *cmdutil.Factory, runF func(*LogoutOptions) error) *cobra.Command {
	o := &LogoutOptions{IOStreams: g.IOStreams, Getenv: g.Getenv, Issuer: g.Issuer, KubeContext: g.KubeContext, KubeconfigStore: g.KubeconfigStore, OpenTokenStore: g.OpenTokenStore, Registry: g.Registry}
	cmd := &cobra.Command{
		Use:   "logout [CLUSTER | --all]",
		Short: "Forget cached tokens and approvals (and revoke the refresh token where the provider allows)",
		Long: `Forget a cluster's cached tokens, revoking their refresh tokens where the
provider allows, and forget the cluster's single sign-on approvals. --all
forgets every cached login and every approval.

Tokens belong to an identity, the cluster's OIDC issuer and client ID, not to
the cluster: logout CLUSTER removes every token set of that issuer and client
ID, whatever scopes or parameters each was obtained with (an older login
from before the cluster's scopes changed included). Another cluster that logs
in with the same issuer and client ID shares those tokens, so it is logged
out too, and logout names it: keeping its refresh token alive would leave
the identity logged in after the user asked to forget it.

CLUSTER is a kubeconfig context written by "use" (default: the current
context), or a registered cluster: logout works from the registry when the
kubeconfig cannot be read, and then forgets every approval of the cluster's
server, a CI grant's included (the registry does not record use --ci).`,
		Example: `  kubectl securekapi logout cluster-a
  kubectl securekapi logout --all`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteClusterName(g.Registry),
		RunE:              cmdutil.RunE(o, runF),
	}
	o.Access.AddFlags(cmd.Flags())
	cmdutil.HideLoginOnlyFlags(cmd)
	cmd.Flags().BoolVar(&o.All, "all", false, "Log out of every issuer with cached tokens")
	return cmd
}

// Complete reads the cluster's settings from kubeconfig.
func (o *LogoutOptions) Complete(c *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	if o.All {
		return nil
	}
	err := cmdutil.CompleteAccessFromKubeconfig(o.KubeconfigStore(), o.KubeContext(), c.Flags(), &o.Access, o.Name)
	if err == nil || o.Name == "" {
		return err
	}
	// Forgetting tokens must not wait on an unrelated kubeconfig problem
	// (a malformed file, a context that is gone): the registry knows the
	// cluster's issuer and client ID too.
	registry, regErr := o.Registry()
	if regErr != nil {
		return err
	}
	reg, regErr := registry.Load()
	if regErr != nil {
		return err
	}
	cluster, ok := reg.Find(o.Name)
	if !ok {
		return err
	}
	fmt.Fprintf(o.ErrOut, "note: using the registered settings of %s, since the kubeconfig gives none (%v)\n", o.Name, err)
	// The stanza `use` writes for it, read as kubeconfig's would be: the
	// same login (scopes and parameters included, so the same key) and
	// server, with the flags given on the command line still winning.
	registered := cmdutil.AccessFor(cluster, cluster.Pins)
	if err := o.Access.FillFromExecArgs(registered.ExecArgs(), c.Flags().Changed); err != nil {
		return fmt.Errorf("the registered settings of %s: %w", o.Name, err)
	}
	o.fromRegistry = true
	return nil
}

// Validate rejects a cluster together with --all.
func (o *LogoutOptions) Validate() error {
	if o.All && o.Name != "" {
		return errors.New("give a cluster or --all, not both")
	}
	if o.All {
		return nil
	}
	return o.Access.Validate()
}

// Run deletes the tokens.
func (o *LogoutOptions) Run(ctx context.Context) error {
	store, _, err := o.OpenTokenStore(&o.Access)
	if err != nil {
		return err
	}
	if err := o.forgetApprovals(); err != nil {
		return err
	}
	var targets []*tokenstore.TokenSet
	if o.All {
		if targets, err = store.List(); err != nil {
			return fmt.Errorf("list cached tokens in the %s store: %w", store.Kind(), err)
		}
	} else if targets, err = o.identityTokenSets(store); err != nil {
		return err
	}
	if !o.All && len(targets) == 0 {
		fmt.Fprintf(o.ErrOut, "Not logged in to %s; nothing to remove.\n", o.Access.Issuer)
		return nil
	}
	var failed error
	for _, ts := range targets {
		if err := o.logout(ctx, store, ts); err != nil {
			failed = errors.Join(failed, err)
		}
	}
	return failed
}

// forgetApprovals forgets the cluster's approvals for its login (every
// approval of that login when no server names the cluster), or all of them.
// Read from the registry, the cluster's server loses every approval, a CI
// grant's included: forgetting more than asked fails closed, keeping a
// grant the user meant to forget would not.
func (o *LogoutOptions) forgetApprovals() error {
	approvals, err := cmdutil.ApprovalStore(o.Getenv, &o.Access)
	if err != nil {
		return err
	}
	match := func(binding.Approval) bool { return true }
	if !o.All {
		id := o.Access.Key().ID()
		b, err := o.Access.Binding()
		if err != nil {
			return err
		}
		server := b.ApprovalTarget().Server
		match = func(a binding.Approval) bool {
			if o.fromRegistry && o.Access.Server != "" && a.Server == server {
				return true
			}
			return a.Identity == id && (o.Access.Server == "" || a.Server == server)
		}
	}
	var gone []binding.Approval
	if err := approvals.Update(func(f *binding.ApprovalsFile) error {
		gone = f.Forget(match)
		return nil
	}); err != nil {
		return fmt.Errorf("forget approvals: %w", err)
	}
	for _, a := range gone {
		fmt.Fprintf(o.ErrOut, "Forgot the approval of %s (%s) for %s.\n", a.Cluster, a.Server, a.Issuer)
	}
	return nil
}

func (o *LogoutOptions) logout(ctx context.Context, store tokenstore.Store, ts *tokenstore.TokenSet) error {
	settings := oidc.Settings{Issuer: ts.Issuer, ClientID: ts.ClientID, CAFile: o.Access.OIDCCAFile}
	if !o.All {
		settings = o.Access.Settings()
	}
	revoked := "the provider advertises no revocation endpoint, so the refresh token stays valid until it expires"
	if ts.RefreshToken == "" {
		// A CI grant's token (or a login the issuer gave no refresh
		// token): nothing outlives it, so the provider is not asked.
		revoked = "it had no refresh token to revoke"
	} else if p, err := o.Issuer(ctx, settings); err != nil {
		revoked = "could not reach the provider to revoke the refresh token: " + err.Error()
	} else if ok, err := p.Revoke(ctx, ts.RefreshToken); err != nil {
		revoked = "revoking the refresh token failed: " + err.Error()
	} else if ok {
		revoked = "the refresh token was revoked at the provider"
	}
	if err := store.Delete(ts.Key()); err != nil {
		return fmt.Errorf("remove tokens for %s from the %s store: %w", ts.Issuer, store.Kind(), err)
	}
	fmt.Fprintf(o.ErrOut, "Logged out of %s (%s); %s.\n", safetext.Escape(ts.Issuer), safetext.Escape(cmdutil.OrDash(ts.Email)), revoked)
	return nil
}

// identityTokenSets returns every token set stored for the cluster's issuer
// and client ID, whatever their scopes or parameters: a login from before
// the cluster's scopes changed sits under another key, with a refresh token
// that still works. A corrupt entry under the current key is removed.
func (o *LogoutOptions) identityTokenSets(store tokenstore.Store) ([]*tokenstore.TokenSet, error) {
	key := o.Access.Key()
	if _, err := store.Get(key); errors.Is(err, tokenstore.ErrCorrupt) {
		_ = store.Delete(key)
	}
	all, err := store.List()
	if err != nil {
		return nil, fmt.Errorf("list cached tokens in the %s store: %w", store.Kind(), err)
	}
	var out []*tokenstore.TokenSet
	for _, ts := range all {
		if ts.Issuer == o.Access.Issuer && ts.ClientID == o.Access.ClientID {
			out = append(out, ts)
		}
	}
	if len(out) > 0 {
		o.noteSharers()
	}
	return out, nil
}

// noteSharers names the other registered clusters that use the same issuer
// and client ID, which this logout logs out too.
func (o *LogoutOptions) noteSharers() {
	registry, err := o.Registry()
	if err != nil {
		return
	}
	reg, err := registry.Load()
	if err != nil {
		return
	}
	var others []string
	for _, c := range reg.Clusters {
		if c.Name != o.Access.Cluster && c.OIDC.IssuerURL == o.Access.Issuer && c.OIDC.ClientID == o.Access.ClientID {
			others = append(others, c.Name)
		}
	}
	if len(others) > 0 {
		fmt.Fprintf(o.ErrOut, "note: %s log in with the same issuer and client ID, so they are logged out too\n", strings.Join(others, ", "))
	}
}
