package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/approval"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/tokencache"
)

// LogoutOptions removes cached tokens, revoking the refresh token at the
// provider when it advertises a revocation endpoint.
type LogoutOptions struct {
	*GlobalOptions
	Access AccessFlags
	Name   string
	All    bool
}

// NewCmdLogout returns the logout command.
func NewCmdLogout(g *GlobalOptions) *cobra.Command {
	o := &LogoutOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "logout [CLUSTER | --all]",
		Short: "Forget cached tokens and approvals (and revoke the refresh token where the provider allows)",
		Long: `Forget the cached tokens of a cluster's login, revoking the refresh token
where the provider allows, and forget the cluster's single sign-on approvals.
--all forgets every cached login and every approval.`,
		Example: `  kubectl securekapi logout cluster-a
  kubectl securekapi logout --all`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeClusterName(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	o.Access.AddFlags(cmd.Flags())
	hideLoginOnlyFlags(cmd)
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
	return completeAccessFromKubeconfig(o.GlobalOptions, c.Flags(), &o.Access, o.Name)
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
	if ctx == nil {
		ctx = context.Background()
	}
	store, _, err := o.Access.openStore(o.GlobalOptions)
	if err != nil {
		return err
	}
	if err := o.forgetApprovals(); err != nil {
		return err
	}
	var targets []*tokencache.TokenSet
	if o.All {
		if targets, err = store.List(); err != nil {
			return fmt.Errorf("list cached tokens in the %s store: %w", store.Kind(), err)
		}
	} else {
		key := credential.KeyFor(o.Access.Settings())
		ts, err := store.Get(key)
		if errors.Is(err, tokencache.ErrNotFound) || errors.Is(err, tokencache.ErrCorrupt) {
			_ = store.Delete(key)
			fmt.Fprintf(o.ErrOut, "Not logged in to %s; nothing to remove.\n", o.Access.Issuer)
			return nil
		}
		if err != nil {
			return err
		}
		targets = []*tokencache.TokenSet{ts}
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
func (o *LogoutOptions) forgetApprovals() error {
	approvals, err := approvalStore(o.GlobalOptions, &o.Access)
	if err != nil {
		return err
	}
	match := func(approval.Approval) bool { return true }
	if !o.All {
		id := credential.KeyFor(o.Access.Settings()).ID()
		binding, err := o.Access.Binding()
		if err != nil {
			return err
		}
		server := binding.ApprovalTarget().Server
		match = func(a approval.Approval) bool {
			return a.Identity == id && (o.Access.Server == "" || a.Server == server)
		}
	}
	var gone []approval.Approval
	if err := approvals.Update(func(f *approval.File) error {
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

func (o *LogoutOptions) logout(ctx context.Context, store tokencache.Store, ts *tokencache.TokenSet) error {
	settings := oidc.Settings{Issuer: ts.Issuer, ClientID: ts.ClientID, CAFile: o.Access.OIDCCAFile}
	if !o.All {
		settings = o.Access.Settings()
	}
	revoked := "the provider advertises no revocation endpoint, so the refresh token stays valid until it expires"
	if p, err := oidc.Discover(ctx, settings, nil); err != nil {
		revoked = "could not reach the provider to revoke the refresh token: " + err.Error()
	} else if ok, err := p.Revoke(ctx, ts.RefreshToken); err != nil {
		revoked = "revoking the refresh token failed: " + err.Error()
	} else if ok {
		revoked = "the refresh token was revoked at the provider"
	}
	key := credential.KeyFor(settings)
	if o.All {
		key = ts.Key()
	}
	if err := store.Delete(key); err != nil {
		return fmt.Errorf("remove tokens for %s from the %s store: %w", ts.Issuer, store.Kind(), err)
	}
	fmt.Fprintf(o.ErrOut, "Logged out of %s (%s); %s.\n", ts.Issuer, orDash(ts.Email), revoked)
	return nil
}
