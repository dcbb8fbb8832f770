// Package work is the work of `expose authn-config`, done in
// securekapi-admin: it asks the cluster what it runs, builds or reads the
// AuthenticationConfiguration, checks it and judges sample tokens with
// kube-apiserver's own code (pkg/authnconfig/kubeapiserver). The everyday
// CLI links only the command's flags (pkg/cmd/authnconfigcmd) and hands the
// call over, so it loads none of k8s.io/apiserver.
package work

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/authnconfig/kubeapiserver"
	"github.com/securekapi/securekapi/pkg/cmd/authnconfigcmd"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// NewCmdAuthnConfig returns `expose authn-config` doing its work:
// securekapi-admin's.
func NewCmdAuthnConfig(g *cmdutil.Factory) *cobra.Command {
	return authnconfigcmd.NewCmdAuthnConfigDoing(g, Run)
}

// Run asks the cluster what it runs, builds or reads the file, checks it
// as kube-apiserver would, then writes it or judges the sample token.
func Run(ctx context.Context, o *authnconfigcmd.AuthnConfigOptions) error {
	target, gv, err := targetOf(ctx, o, &kubeconfigCluster{restConfig: o.RESTConfig})
	if err != nil {
		return err
	}
	var data []byte
	if o.FromFile != "" {
		if data, err = os.ReadFile(o.FromFile); err != nil {
			return fmt.Errorf("--from-file: %w", err)
		}
	} else if data, err = kubeapiserver.Encode(kubeapiserver.Build(o.Settings), gv); err != nil {
		return err
	}
	cfg, err := kubeapiserver.Check(data, target)
	if err != nil {
		if o.FromFile != "" {
			return fmt.Errorf("%s: %w", o.FromFile, err)
		}
		return fmt.Errorf("%w\nNothing was written.", err)
	}
	if o.CheckToken != "" {
		return judge(ctx, o, cfg, target)
	}
	if o.FromFile != "" {
		fmt.Fprintf(o.ErrOut, "%s: kube-apiserver %s would accept it (%d JWT issuers).\n", o.FromFile, versionText(target.Version), len(cfg.JWT))
		return nil
	}
	if o.Output == "-" || o.Output == "" {
		if _, err := o.Out.Write(data); err != nil {
			return err
		}
	} else if err := atomicfile.WriteMode(o.Output, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", o.Output, err)
	}
	summarise(o, gv, target)
	return nil
}

// summarise tells the owner, on stderr, what was written and how to use it.
func summarise(o *authnconfigcmd.AuthnConfigOptions, gv schema.GroupVersion, t authnconfig.Target) {
	where := o.Output
	if where == "-" || where == "" {
		where = "stdout"
	}
	fmt.Fprintf(o.ErrOut, "Wrote an AuthenticationConfiguration %s for kube-apiserver %s to %s, checked as kube-apiserver checks it.\n", gv, versionText(t.Version), where)
	if h := o.Settings.Human; h != nil {
		fmt.Fprintf(o.ErrOut, "  people: %s (audience %s), username claim %s, groups %s<%s>\n", h.IssuerURL, h.ClientID, h.UsernameClaim, h.GroupsPrefix, h.GroupsClaim)
	}
	for _, c := range o.Settings.CI {
		fmt.Fprintf(o.ErrOut, "  ci: %s %s (audience %s), %d rule(s)\n", c.Provider, c.IssuerURL, c.Audience, len(c.Rules))
	}
	fmt.Fprintln(o.ErrOut, "Start kube-apiserver with --authentication-config=FILE instead of its --oidc-* flags (it refuses both), "+
		"and write RBAC subjects with the mapped names; check a pipeline's token with --check-token.")
}
