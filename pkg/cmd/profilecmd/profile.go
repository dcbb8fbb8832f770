// Package profilecmd is `kubectl securekapi profile`, for platform owners: it
// writes the access profile third parties import, pinned to the endpoint's
// verified CA.
package profilecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// PublishedProfileName is the file --publish-dir writes.
const PublishedProfileName = "securekapi-profile.yaml"

// ProfileOptions writes an access profile for a cluster from its live,
// verified endpoint: the platform owner's side of `import`.
type ProfileOptions struct {
	genericiooptions.IOStreams
	Now        func() time.Time
	Cluster    profile.Cluster
	CAFile     string
	Output     string
	PublishDir string
	Append     bool
	CI         cmdutil.CIIssuerFlags

	// target is the file written; empty means stdout.
	target string
}

// NewCmdProfile returns the profile command.
func NewCmdProfile(g *cmdutil.Factory) *cobra.Command { return newCmdProfile(g, nil) }

// newCmdProfile wires the flags to ProfileOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdProfile(g *cmdutil.Factory, runF func(*ProfileOptions) error) *cobra.Command {
	o := &ProfileOptions{IOStreams: g.IOStreams, Now: g.Now}
	cmd := &cobra.Command{
		Use:   "profile NAME --server https://HOST[:PORT] --oidc-issuer-url URL --oidc-client-id ID",
		Short: "For platform owners: write the access profile third parties import, pinned to the endpoint's verified CA",
		Long: `For platform owners: connect to the cluster's trusted secondary endpoint,
verify its certificate chain (against --ca-file, else the system roots), and
write an access profile with the endpoint, its CA and the CA's pins, and the
OIDC client. Third parties register it with "kubectl securekapi import".

The pins are those of the CA certificates of the verified chain, never the
leaf's: they stay valid when the endpoint's certificate is renewed.

--append adds the cluster to an existing profile (or replaces its entry), so
one profile hands over many clusters. --publish-dir writes DIR/` + PublishedProfileName + `
for a web server to serve over verified https.`,
		Example: `  kubectl securekapi profile cluster-a --server https://kapi.example.com \
    --oidc-issuer-url https://login.example.com --oidc-client-id kubectl -o acme.yaml

  # An enterprise CA, and a second cluster added to the same published profile
  kubectl securekapi profile cluster-b --server https://kapi-b.example.com --ca-file enterprise-ca.pem \
    --oidc-issuer-url https://login.example.com --oidc-client-id kubectl \
    --publish-dir /srv/www/securekapi --append
  # third parties then run:
  kubectl securekapi import https://platform.example.com/securekapi/` + PublishedProfileName,
		Args: cobra.ExactArgs(1),
		RunE: cmdutil.RunE(o, runF),
	}
	f := cmd.Flags()
	f.StringVar(&o.Cluster.Server, "server", "", "The trusted secondary endpoint third parties use, https://host[:port]")
	f.StringVar(&o.Cluster.TLSServerName, "tls-server-name", "", "Name to verify on the endpoint's certificate, when it differs from the URL host")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM bundle of the CA that issues the endpoint's certificate (default: the system roots)")
	f.StringVar(&o.Cluster.OIDC.IssuerURL, "oidc-issuer-url", "", "OIDC issuer URL the API server trusts")
	f.StringVar(&o.Cluster.OIDC.ClientID, "oidc-client-id", "", "OIDC client ID for kubectl users")
	f.StringSliceVar(&o.Cluster.OIDC.ExtraScopes, "oidc-extra-scope", nil, "Extra scopes users request; repeatable")
	f.StringVarP(&o.Cluster.Namespace, "namespace", "n", "", "Default namespace for users' contexts")
	f.StringVarP(&o.Output, "output", "o", "-", "File to write the profile to, or - for stdout")
	f.StringVar(&o.PublishDir, "publish-dir", "", "Write the profile atomically as DIR/"+PublishedProfileName+", for a web server to serve")
	o.CI.BindProfile(f)
	f.BoolVar(&o.Append, "append", false, "Add the cluster to the existing profile file (or replace its entry) instead of starting a new one")
	return cmd
}

// Complete reads the CA file and picks the file to write.
func (o *ProfileOptions) Complete(_ *cobra.Command, args []string) error {
	o.Cluster.Name = args[0]
	o.Cluster.CI = o.CI.ProfileEntries(o.Cluster.Server)
	if o.CAFile != "" {
		data, err := profile.ReadCAFile(o.CAFile)
		if err != nil {
			return err
		}
		o.Cluster.CertificateAuthorityData = data
	}
	switch {
	case o.PublishDir != "":
		o.target = filepath.Join(o.PublishDir, PublishedProfileName)
	case o.Output != "-" && o.Output != "" && o.Output != "yaml":
		o.target = o.Output
	}
	return nil
}

// Validate checks the flags offline.
func (o *ProfileOptions) Validate() error {
	if o.PublishDir != "" && o.Output != "-" && o.Output != "" {
		return errors.New("pass either -o FILE or --publish-dir DIR, not both")
	}
	if o.Output == "json" {
		return errors.New("-o names the file to write (or - for stdout); profiles are YAML")
	}
	if o.Append && o.target == "" {
		return errors.New("--append adds to a profile file: pass -o FILE or --publish-dir DIR")
	}
	if o.Cluster.Server == "" {
		return errors.New("no --server: pass the trusted secondary endpoint third parties use, https://host[:port]")
	}
	// The pins come from the live check; a stand-in lets the rest of the
	// entry be checked first.
	c := o.Cluster
	c.Pins = []string{"sha256:" + strings.Repeat("0", 64)}
	return c.Validate()
}

// Run verifies the endpoint, computes the pins and writes the profile.
func (o *ProfileOptions) Run(ctx context.Context) error {
	policy := trust.Policy{Now: o.Now()}
	if len(o.Cluster.CertificateAuthorityData) > 0 {
		var err error
		if policy.CABundle, err = trust.ParsePEMCertificates(o.Cluster.CertificateAuthorityData); err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
	}
	ep := pinning.Endpoint{URL: o.Cluster.Server, TLSServerName: o.Cluster.TLSServerName}
	v, err := trust.Check(ctx, ep, policy, trust.FetchOptions{Timeout: cmdutil.EndpointTimeout})
	if err != nil {
		return o.checkError(err)
	}
	cas, pins := profilePins(v)
	o.Cluster.Pins = pins
	// The profile also carries the verified CA certificates: clients then
	// trust exactly them for this endpoint (not every system root), and an
	// endpoint that does not send its root CA still verifies.
	o.Cluster.CertificateAuthorityData = trust.EncodePEM(cas)
	if err := o.Cluster.Validate(); err != nil {
		return err
	}

	fmt.Fprintf(o.ErrOut, "Endpoint %s verified: %s\n", o.Cluster.Server, v.Chain[0].Subject)
	for i, c := range cas {
		fmt.Fprintf(o.ErrOut, "  pin %s  %s\n", pins[i], c.Subject)
	}
	if len(o.Cluster.OIDC.ExtraScopes) == 0 {
		fmt.Fprintln(o.ErrOut, "Note: no --oidc-extra-scope: users' ID tokens carry only the claims the issuer sends for \"openid\". "+
			"If the API server maps users by email or groups (--oidc-username-claim, --oidc-groups-claim), add --oidc-extra-scope email and groups.")
	}
	if len(v.Chain) == 1 {
		fmt.Fprintln(o.ErrOut, "Warning: the endpoint's certificate is its own CA, so the pin is the leaf's: it changes whenever the certificate is re-keyed. Prefer a certificate issued by a CA.")
	}

	p, err := o.profileToWrite()
	if err != nil {
		return err
	}
	replaced := p.Upsert(o.Cluster)
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	// What import will read must parse: check the round trip here, not at
	// a third party.
	if _, err := profile.Parse(data); err != nil {
		return fmt.Errorf("the profile would not import (a bug in securekapi; please report it with this message at https://github.com/securekapi/securekapi/issues): %w", err)
	}
	if o.target == "" {
		_, err := o.Out.Write(data)
		return err
	}
	if o.PublishDir != "" {
		if err := os.MkdirAll(o.PublishDir, 0o755); err != nil {
			return fmt.Errorf("--publish-dir: %w", err)
		}
	}
	if err := atomicfile.WriteMode(o.target, data, 0o644); err != nil {
		return fmt.Errorf("write the profile: %w", err)
	}
	verb := "Added"
	if replaced {
		verb = "Updated"
	}
	fmt.Fprintf(o.ErrOut, "%s %s in %s (clusters: %s)\n", verb, o.Cluster.Name, o.target, strings.Join(p.Names(), ", "))
	if o.PublishDir != "" {
		fmt.Fprintf(o.ErrOut, "Serve %s over https with a certificate third parties' systems trust (import fetches verified https only); they run:\n"+
			"  kubectl securekapi import https://<your web server>/<path>/%s\n", o.PublishDir, PublishedProfileName)
	} else {
		fmt.Fprintf(o.ErrOut, "Hand it over; third parties run: kubectl securekapi import %s\n", filepath.Base(o.target))
	}
	return nil
}
