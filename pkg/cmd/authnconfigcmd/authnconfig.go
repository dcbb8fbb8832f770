// Package authnconfigcmd is `expose authn-config`: the platform owner writes
// and checks kube-apiserver's AuthenticationConfiguration (pkg/authnconfig)
// from the access profile's settings and the CI issuers.
package authnconfigcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// AuthnConfigOptions writes kube-apiserver's AuthenticationConfiguration
// for a cluster behind a trusted endpoint: the platform owner's other half
// of the access profile (a re-encrypting endpoint ends client-certificate
// authentication, so the API server must trust the OIDC issuers).
type AuthnConfigOptions struct {
	genericiooptions.IOStreams
	Now        func() time.Time
	RESTConfig func(timeout time.Duration) (*rest.Config, error)

	Human       authnconfig.HumanIssuer
	HumanCAFile string
	CI          cmdutil.CIIssuerFlags
	// Audience is the default audience of CI issuers without --ci-audience.
	Audience string

	// ProfileFile and ProfileCluster take the human issuer and the CI
	// issuers from an access profile instead of (or beside) the flags.
	ProfileFile, ProfileCluster string

	// APIVersion is auto (ask the API server), v1 or v1beta1.
	APIVersion            string
	ServiceAccountIssuers []string

	Output     string
	FromFile   string
	CheckToken string

	// Cluster answers the API server's version and service-account issuer;
	// default: the kubeconfig's cluster.
	Cluster clusterFacts

	settings authnconfig.Settings
	asked    *schema.GroupVersion
}

// clusterFacts is what the command asks the API server.
type clusterFacts interface {
	ServerVersion(ctx context.Context) (authnconfig.ServerVersion, error)
	ServiceAccountIssuer(ctx context.Context) (string, error)
}

// NewCmdAuthnConfig returns `expose authn-config`.
func NewCmdAuthnConfig(g *cmdutil.Factory) *cobra.Command { return newCmdAuthnConfig(g, nil) }

// newCmdAuthnConfig wires the flags to AuthnConfigOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdAuthnConfig(g *cmdutil.Factory, runF func(*AuthnConfigOptions) error) *cobra.Command {
	o := &AuthnConfigOptions{IOStreams: g.IOStreams, Now: g.Now, RESTConfig: g.RESTConfig}
	cmd := &cobra.Command{
		Use:     "authn-config",
		Short:   "For platform owners: write and check kube-apiserver's authentication configuration (OIDC for people and CI)",
		Long:    authnConfigLong,
		Example: authnConfigExample,
		Args:    cobra.NoArgs,
		RunE:    cmdutil.RunE(o, runF),
	}
	f := cmd.Flags()
	f.StringVar(&o.Human.IssuerURL, "oidc-issuer-url", "", "People's OIDC issuer (default: the profile's)")
	f.StringVar(&o.Human.ClientID, "oidc-client-id", "", "The OIDC client kubectl users log in with: the audience of their ID tokens (default: the profile's)")
	f.StringVar(&o.HumanCAFile, "oidc-ca-file", "", "PEM CA of a privately issued people's issuer (default: the profile's oidc.caFile)")
	f.StringVar(&o.Human.UsernameClaim, "oidc-username-claim", "email", "Claim that names a person")
	f.StringVar(&o.Human.UsernamePrefix, "oidc-username-prefix", "", `Prefix of people's usernames; required unless the claim is email (e.g. "oidc:")`)
	f.StringVar(&o.Human.GroupsClaim, "oidc-groups-claim", "groups", `Claim with a person's groups ("-" for none)`)
	f.StringVar(&o.Human.GroupsPrefix, "oidc-groups-prefix", "oidc:", "Prefix of people's groups, so an IdP group cannot be system:masters")
	o.CI.BindAll(f)
	f.StringVar(&o.Audience, "audience", "", "Default audience of CI issuers (default: the profile's server, the trusted endpoint's URL)")
	f.StringVar(&o.ProfileFile, "profile", "", "Access profile to take the people's issuer and the CI issuers from")
	f.StringVar(&o.ProfileCluster, "cluster", "", "The profile's cluster (default: its only one)")
	f.StringVar(&o.APIVersion, "api-version", "auto", "File version: auto (from the API server's /version), v1 (1.34+) or v1beta1 (1.30+)")
	f.StringSliceVar(&o.ServiceAccountIssuers, "service-account-issuer", nil, "The cluster's --service-account-issuer values, which cannot be JWT issuers (default: asked from the cluster)")
	f.StringVarP(&o.Output, "output", "o", "-", "File to write, or - for stdout")
	f.StringVar(&o.FromFile, "from-file", "", "Check an existing AuthenticationConfiguration file instead of writing one")
	f.StringVar(&o.CheckToken, "check-token", "", "Judge a sample JWT (file, - for stdin) against the configuration instead of writing it")
	return cmd
}

// Complete reads the profile, the CA files and the asked version.
func (o *AuthnConfigOptions) Complete(*cobra.Command, []string) error {
	if o.APIVersion != "auto" {
		gv, err := authnconfig.ParseFileVersion(o.APIVersion)
		if err != nil {
			return fmt.Errorf("--api-version: %w", err)
		}
		o.asked = &gv
	}
	if o.FromFile != "" {
		return nil
	}
	ci := o.CI.Issuers
	if o.ProfileFile != "" {
		c, err := o.profileCluster()
		if err != nil {
			return err
		}
		if o.Human.IssuerURL == "" {
			o.Human.IssuerURL, o.Human.ClientID = c.OIDC.IssuerURL, c.OIDC.ClientID
			if o.HumanCAFile == "" {
				o.HumanCAFile = c.OIDC.CAFile
			}
		}
		if o.Audience == "" {
			o.Audience = c.Server
		}
		ci = mergeCI(c.CI, o.CI.Issuers)
	}
	if err := o.readCAFiles(ci); err != nil {
		return err
	}
	for i := range ci {
		if ci[i].Audience == "" {
			ci[i].Audience = o.Audience
		}
	}
	o.settings = authnconfig.Settings{CI: ci}
	if o.Human.IssuerURL != "" || o.Human.ClientID != "" {
		h := o.Human
		o.settings.Human = &h
	}
	return nil
}

// Validate checks the flags offline.
func (o *AuthnConfigOptions) Validate() error {
	if o.FromFile != "" {
		if o.ProfileFile != "" || len(o.CI.Issuers) > 0 || o.Human.IssuerURL != "" {
			return errors.New("--from-file checks an existing file: pass no --profile, --ci or --oidc-* flags with it")
		}
		return nil
	}
	if o.settings.Human == nil && len(o.settings.CI) == 0 {
		return errors.New("nothing to configure: pass --profile FILE, or --oidc-issuer-url and --oidc-client-id, and/or --ci PROVIDER")
	}
	if h := o.settings.Human; h != nil && (h.IssuerURL == "" || h.ClientID == "") {
		return errors.New("the people's issuer needs both --oidc-issuer-url and --oidc-client-id")
	}
	return nil
}

// Run asks the cluster what it runs, builds or reads the file, checks it
// as kube-apiserver would, then writes it or judges the sample token.
func (o *AuthnConfigOptions) Run(ctx context.Context) error {
	target, gv, err := o.target(ctx)
	if err != nil {
		return err
	}
	var data []byte
	if o.FromFile != "" {
		if data, err = os.ReadFile(o.FromFile); err != nil {
			return fmt.Errorf("--from-file: %w", err)
		}
	} else if data, err = authnconfig.Encode(authnconfig.Build(o.settings), gv); err != nil {
		return err
	}
	cfg, err := authnconfig.Check(data, target)
	if err != nil {
		if o.FromFile != "" {
			return fmt.Errorf("%s: %w", o.FromFile, err)
		}
		return fmt.Errorf("%w\nNothing was written.", err)
	}
	if o.CheckToken != "" {
		return o.judge(ctx, cfg, target)
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
	o.summarise(gv, target)
	return nil
}

// summarise tells the owner, on stderr, what was written and how to use it.
func (o *AuthnConfigOptions) summarise(gv schema.GroupVersion, t authnconfig.Target) {
	where := o.Output
	if where == "-" || where == "" {
		where = "stdout"
	}
	fmt.Fprintf(o.ErrOut, "Wrote an AuthenticationConfiguration %s for kube-apiserver %s to %s, checked as kube-apiserver checks it.\n", gv, versionText(t.Version), where)
	if h := o.settings.Human; h != nil {
		fmt.Fprintf(o.ErrOut, "  people: %s (audience %s), username claim %s, groups %s<%s>\n", h.IssuerURL, h.ClientID, h.UsernameClaim, h.GroupsPrefix, h.GroupsClaim)
	}
	for _, c := range o.settings.CI {
		fmt.Fprintf(o.ErrOut, "  ci: %s %s (audience %s), %d rule(s)\n", c.Provider, c.IssuerURL, c.Audience, len(c.Rules))
	}
	fmt.Fprintln(o.ErrOut, "Start kube-apiserver with --authentication-config=FILE instead of its --oidc-* flags (it refuses both), "+
		"and write RBAC subjects with the mapped names; check a pipeline's token with --check-token.")
}
