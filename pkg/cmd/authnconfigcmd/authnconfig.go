// Package authnconfigcmd is `expose authn-config`: the platform owner writes
// and checks kube-apiserver's AuthenticationConfiguration (pkg/authnconfig)
// from the access profile's settings and the CI issuers.
package authnconfigcmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// AuthnConfigOptions writes kube-apiserver's AuthenticationConfiguration
// for a cluster behind a trusted endpoint: the platform owner's other half
// of the access profile (a re-encrypting endpoint ends client-certificate
// authentication, so the API server must trust the OIDC issuers).
type AuthnConfigOptions struct {
	*cmdutil.Factory

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
func NewCmdAuthnConfig(g *cmdutil.Factory) *cobra.Command {
	o := &AuthnConfigOptions{Factory: g}
	cmd := &cobra.Command{
		Use:   "authn-config",
		Short: "For platform owners: write and check kube-apiserver's authentication configuration (OIDC for people and CI)",
		Long: `For platform owners: write the AuthenticationConfiguration kube-apiserver reads
with --authentication-config, for people (the access profile's OIDC issuer) and
for CI jobs (GitHub Actions, GitLab, or any OIDC issuer). A re-encrypting endpoint
ends client-certificate authentication: OIDC is how the API server knows who calls.

Each CI issuer is bound to this cluster by an audience (default: the trusted
endpoint's URL), by CEL claim rules (--ci-rule) and maps to a username such as
ci:github:org/app:refs/heads/main and the group ci:github, for RBAC.

The file is checked before it is written with kube-apiserver's own decoder,
validation and CEL environment: a rule that does not compile, a duplicate issuer,
a missing audience, a claim the provider does not send, or a username or group
mapping that could reach "system:" is refused. Every authenticator also gets
user validation rules that make the API server refuse "system:" identities.

The version (apiserver.config.k8s.io/v1 from 1.34, v1beta1 from 1.30) comes from
the API server's /version through your kubeconfig, or --api-version.

--check-token FILE judges a sample JWT (one saved from a CI run, say) as
kube-apiserver would, signature aside: which issuer's authenticator takes it, the
username and groups it maps to, or the rule that refuses it (exit status 1).`,
		Example: `  # People from the profile's issuer, and one GitHub repository's main branch.
  kubectl securekapi expose authn-config --profile acme.yaml --cluster cluster-a \
    --ci github --ci-rule 'claims.repository == "org/app" && claims.ref == "refs/heads/main"' \
    -o /etc/kubernetes/authn.yaml
  # then: kube-apiserver --authentication-config=/etc/kubernetes/authn.yaml (no --oidc-* flags)

  # Without a profile, for a 1.33 cluster, with a GitLab instance too.
  kubectl securekapi expose authn-config --api-version v1beta1 \
    --oidc-issuer-url https://login.example.com --oidc-client-id kubectl --oidc-groups-prefix oidc: \
    --audience https://kapi.example.com \
    --ci github --ci-rule 'claims.repository == "org/app" && claims.environment == "prod"' \
    --ci gitlab=https://gitlab.example.com --ci-rule 'claims.project_path == "org/app"'

  # Would this pipeline's token get in?
  kubectl securekapi expose authn-config --from-file /etc/kubernetes/authn.yaml --check-token token.jwt`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
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
func (o *AuthnConfigOptions) Complete() error {
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
	if o.HumanCAFile != "" {
		data, err := os.ReadFile(o.HumanCAFile)
		if err != nil {
			return fmt.Errorf("--oidc-ca-file: %w", err)
		}
		o.Human.CAData = data
	}
	for i, file := range o.CI.CAFiles {
		if file == "" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--ci-ca-file for %s: %w", o.CI.Issuers[i].IssuerURL, err)
		}
		for j := range ci {
			if ci[j].IssuerURL == o.CI.Issuers[i].IssuerURL {
				ci[j].CAData = data
			}
		}
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
	if ctx == nil {
		ctx = context.Background()
	}
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
