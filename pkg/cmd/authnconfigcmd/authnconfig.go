// Package authnconfigcmd is `expose authn-config`: the platform owner writes
// and checks kube-apiserver's AuthenticationConfiguration (pkg/authnconfig)
// from the access profile's settings and the CI issuers.
//
// This package is the command as both programs have it: flags, help,
// completion and the checks of the flags. The work (build, check and judge
// with kube-apiserver's own code) is pkg/cmd/authnconfigcmd/work, which only
// securekapi-admin links: the everyday CLI hands the call over to it
// (pkg/handover), so that k8s.io/apiserver's grpc, OpenTelemetry and
// Prometheus do not load with every command.
package authnconfigcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/handover"
)

// AuthnConfigOptions writes kube-apiserver's AuthenticationConfiguration
// for a cluster behind a trusted endpoint: the platform owner's other half
// of the access profile (a re-encrypting endpoint ends client-certificate
// authentication, so the API server must trust the OIDC issuers).
type AuthnConfigOptions struct {
	genericiooptions.IOStreams
	Now        func() time.Time
	RESTConfig func(timeout time.Duration) (*rest.Config, error)
	// Program is the name the user invoked, which securekapi-admin's
	// messages use.
	Program string

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

	// Settings and Asked are what Complete makes of the flags: the
	// configuration to build, and the file version asked for (nil: auto).
	Settings authnconfig.Settings
	Asked    *schema.GroupVersion

	// work does the command once the flags are checked: nil in the
	// everyday CLI, which hands the call to securekapi-admin (admin finds
	// it); work.Run there.
	work  func(context.Context, *AuthnConfigOptions) error
	admin handover.Finder
}

// NewCmdAuthnConfig returns `expose authn-config` as the everyday CLI has
// it: help, completion and a mistyped flag are answered here, and a call
// that passes the checks is handed unchanged to securekapi-admin, found
// next to this program.
func NewCmdAuthnConfig(g *cmdutil.Factory) *cobra.Command { return newCmdAuthnConfig(g, nil, nil) }

// NewCmdAuthnConfigDoing returns the same command doing work itself once
// the flags are checked: securekapi-admin's, with work.Run.
func NewCmdAuthnConfigDoing(g *cmdutil.Factory, work func(context.Context, *AuthnConfigOptions) error) *cobra.Command {
	return newCmdAuthnConfig(g, work, nil)
}

// newCmdAuthnConfig wires the flags to AuthnConfigOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdAuthnConfig(g *cmdutil.Factory, work func(context.Context, *AuthnConfigOptions) error, runF func(*AuthnConfigOptions) error) *cobra.Command {
	o := &AuthnConfigOptions{IOStreams: g.IOStreams, Now: g.Now, RESTConfig: g.RESTConfig, Program: g.Program, work: work,
		admin: handover.Finder{Program: handover.Admin, Executable: os.Executable, LookPath: exec.LookPath, Getenv: g.Getenv}}
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
		o.Asked = &gv
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
	o.Settings = authnconfig.Settings{CI: ci}
	if o.Human.IssuerURL != "" || o.Human.ClientID != "" {
		h := o.Human
		o.Settings.Human = &h
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
	if o.Settings.Human == nil && len(o.Settings.CI) == 0 {
		return errors.New("nothing to configure: pass --profile FILE, or --oidc-issuer-url and --oidc-client-id, and/or --ci PROVIDER")
	}
	if h := o.Settings.Human; h != nil && (h.IssuerURL == "" || h.ClientID == "") {
		return errors.New("the people's issuer needs both --oidc-issuer-url and --oidc-client-id")
	}
	return nil
}

// Run does the work here (securekapi-admin), or hands the whole call (the
// process's arguments, streams and environment) to securekapi-admin and
// ends with its exit code: on unix this process becomes securekapi-admin.
func (o *AuthnConfigOptions) Run(ctx context.Context) error {
	if o.work != nil {
		return o.work(ctx, o)
	}
	// os.Args, not the parsed flags: securekapi-admin parses the call as
	// the user wrote it, global flags and all, with the same code.
	code, err := handover.Exec(o.admin, os.Args, o.Program)
	if err != nil {
		return err
	}
	if code != 0 {
		return &cmdutil.ExitError{Code: code}
	}
	return nil
}
