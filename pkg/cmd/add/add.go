// Package add is `kubectl securekapi add`: it registers a cluster's trusted
// endpoint and OIDC client in the user's registry after checking the endpoint
// live (pinned CA, name, dates), so `use` can switch to it.
package add

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/localproxy"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// AddOptions registers one cluster after checking its endpoint live.
type AddOptions struct {
	genericiooptions.IOStreams
	Now          func() time.Time
	Issuer       func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	Tunnels      func() tunnel.Env
	Approver     func() cmdutil.Approver
	OpenRegistry func() (*profile.Registry, error)

	Cluster profile.Cluster
	CAFile  string
	DryRun  bool
	// Replace lets add change a cluster already registered under NAME;
	// without it that is refused, showing the change (as import does).
	Replace  bool
	Registry *profile.Registry
	// Approve approves the cluster to receive the login without asking.
	Approve bool
	// Tunnel flags; a gateway address turns the tunnel on.
	Tunnel       profile.Tunnel
	TunnelCAFile string
}

// NewCmdAdd returns the add command.
func NewCmdAdd(g *cmdutil.Factory) *cobra.Command { return newCmdAdd(g, nil) }

// newCmdAdd wires the flags to AddOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdAdd(g *cmdutil.Factory, runF func(*AddOptions) error) *cobra.Command {
	o := &AddOptions{IOStreams: g.IOStreams, Now: g.Now, Issuer: g.Issuer, Tunnels: g.Tunnels, Approver: g.Approver, OpenRegistry: g.Registry}
	cmd := &cobra.Command{
		Use:   "add NAME --server URL (--pin sha256:... | --ca-file F) --oidc-issuer-url URL --oidc-client-id ID",
		Short: "Register a cluster's trusted endpoint and OIDC client, after checking the endpoint live",
		Example: `  # Pins come from the platform owner (they run "kubectl securekapi pin")
  kubectl securekapi add cluster-a --server https://kapi.example.com \
    --pin sha256:7d3c...e1 --oidc-issuer-url https://dex.example.com --oidc-client-id kubectl

  # An endpoint reached by IP whose certificate names kapi.example.com
  kubectl securekapi add cluster-b --server https://10.0.0.5:6443 --tls-server-name kapi.example.com \
    --ca-file enterprise-ca.pem --oidc-issuer-url https://dex.example.com --oidc-client-id kubectl`,
		Args: cobra.ExactArgs(1),
		RunE: cmdutil.RunE(o, runF),
	}
	f := cmd.Flags()
	f.StringVar(&o.Cluster.Server, "server", "", "The trusted secondary endpoint, https://host[:port]")
	f.StringVar(&o.Cluster.TLSServerName, "tls-server-name", "", "Name to verify on the endpoint's certificate, when it differs from the URL host")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM bundle of the CA(s) that issue the endpoint's certificate")
	f.StringSliceVar(&o.Cluster.Pins, "pin", nil, "sha256:<hex SPKI> pin of a certificate in the endpoint's chain; repeatable (several allow a CA rotation)")
	f.StringVar(&o.Cluster.OIDC.IssuerURL, "oidc-issuer-url", "", "OIDC issuer URL")
	f.StringVar(&o.Cluster.OIDC.ClientID, "oidc-client-id", "", "OIDC client ID")
	f.StringSliceVar(&o.Cluster.OIDC.ExtraScopes, "oidc-extra-scope", nil, "Extra scopes; repeatable")
	f.StringToStringVar(&o.Cluster.OIDC.ExtraParams, "oidc-auth-request-extra-params", nil, "Extra authorization request parameters, key=value")
	f.StringVar(&o.Cluster.OIDC.CAFile, "oidc-ca-file", "", "PEM CA bundle for a privately issued OIDC issuer")
	f.StringVarP(&o.Cluster.Namespace, "namespace", "n", "", "Default namespace for the context")
	f.BoolVar(&o.DryRun, "dry-run", false, "Check and show the entry without saving it")
	f.BoolVar(&o.Approve, "approve", false, cmdutil.ApproveFlagHelp)
	f.BoolVar(&o.Replace, "replace", false, "Let add change a cluster already registered under NAME (without it, that is refused and the change shown)")
	f.StringVar(&o.Tunnel.Gateway, "tunnel-gateway", "", "mTLS access gateway host:port; the endpoint is then reached only through it (see the proxy and run commands)")
	f.StringVar(&o.Tunnel.Mode, "tunnel-mode", string(localproxy.ModeConnect), "connect (HTTP CONNECT inside the mTLS connection) or direct (the gateway forwards to one fixed backend)")
	f.StringVar(&o.Tunnel.GatewayServerName, "tunnel-server-name", "", "Name to verify on the gateway's certificate (default: the gateway host)")
	f.StringVar(&o.TunnelCAFile, "tunnel-ca-file", "", "PEM bundle of the CA(s) that issue the gateway's certificate (default: system roots)")
	f.StringSliceVar(&o.Tunnel.GatewayPins, "tunnel-pin", nil, "sha256:<hex SPKI> pin of a certificate in the gateway's chain; repeatable")
	f.StringVar(&o.Tunnel.ClientCertFile, "tunnel-client-cert", "", "Client certificate (PEM) presented to the gateway")
	f.StringVar(&o.Tunnel.ClientKeyFile, "tunnel-client-key", "", "Key of the client certificate (PEM)")
	return cmd
}

// Complete reads the CA file and finds the registry.
func (o *AddOptions) Complete(_ *cobra.Command, args []string) error {
	o.Cluster.Name = args[0]
	if o.CAFile != "" {
		data, err := profile.ReadCAFile(o.CAFile)
		if err != nil {
			return err
		}
		o.Cluster.CertificateAuthorityData = data
	}
	if err := completeOIDCCAFile(&o.Cluster.OIDC.CAFile); err != nil {
		return err
	}
	if o.Tunnel.Gateway != "" {
		t := o.Tunnel
		if o.TunnelCAFile != "" {
			data, err := os.ReadFile(o.TunnelCAFile)
			if err != nil {
				return fmt.Errorf("--tunnel-ca-file: %w", err)
			}
			t.GatewayCAData = data
		}
		// Stored as absolute paths: the registry is read from any directory.
		for _, f := range []*string{&t.ClientCertFile, &t.ClientKeyFile} {
			if *f != "" {
				abs, err := filepath.Abs(*f)
				if err != nil {
					return err
				}
				*f = abs
			}
		}
		o.Cluster.Tunnel = &t
	}
	var err error
	o.Registry, err = o.OpenRegistry()
	return err
}

// Validate checks the settings offline, naming the flags at fault.
func (o *AddOptions) Validate() error {
	if err := o.validateFlags(); err != nil {
		return err
	}
	return o.Cluster.Validate()
}

// Run checks the endpoint, then saves.
func (o *AddOptions) Run(ctx context.Context) error {
	verified, err := cmdutil.CheckEndpoint(ctx, o.Now, o.Tunnels(), &o.Cluster)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Endpoint %s verified: %s (%s)\n", o.Cluster.Server, verified.Chain[0].Subject, cmdutil.TrustedBy(verified))
	o.chooseScopes(ctx)
	current, err := o.Registry.Load()
	if err != nil {
		return err
	}
	if err := o.refuseChange(current); err != nil {
		return err
	}
	if o.DryRun {
		p := &profile.Profile{Clusters: []profile.Cluster{o.Cluster}}
		data, err := p.Marshal()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "Dry run: would add to %s:\n", o.Registry.Path)
		_, err = o.Out.Write(data)
		return err
	}
	var changes []profile.Change
	var existed bool
	if err := o.Registry.Update(func(p *profile.Profile) error {
		// Again under the lock: the registry may have changed meanwhile.
		if err := o.refuseChange(p); err != nil {
			return err
		}
		if old, ok := p.Find(o.Cluster.Name); ok {
			existed, changes = true, profile.Diff(*old, o.Cluster)
		}
		p.Upsert(o.Cluster)
		return nil
	}); err != nil {
		return err
	}
	switch {
	case !existed:
		fmt.Fprintf(o.ErrOut, "Added %s.\n", o.Cluster.Name)
	case len(changes) == 0:
		fmt.Fprintf(o.ErrOut, "%s is already registered with these settings.\n", o.Cluster.Name)
	default:
		fmt.Fprintf(o.ErrOut, "Replaced the registered settings of %s (--replace):\n", o.Cluster.Name)
		cmdutil.WriteChanges(o.ErrOut, "", changes)
	}
	fmt.Fprintf(o.ErrOut, "Next: kubectl securekapi use %s\n", o.Cluster.Name)
	return o.Approver().Clusters([]profile.Cluster{o.Cluster}, map[string]*trust.Verified{o.Cluster.Name: verified}, o.Approve, "add")
}

// refuseChange refuses, unless --replace, to change a cluster already
// registered under the name, as import does: a second `add` with a typo'd
// name or pasted from elsewhere must not silently move an existing cluster
// to other pins, another endpoint or issuer. The error shows every change.
func (o *AddOptions) refuseChange(current *profile.Profile) error {
	old, ok := current.Find(o.Cluster.Name)
	if o.Replace || !ok {
		return nil
	}
	changes := profile.Diff(*old, o.Cluster)
	if len(changes) == 0 {
		return nil
	}
	var b strings.Builder
	cmdutil.WriteChanges(&b, "", changes)
	return fmt.Errorf("%s is already registered with other settings; nothing was changed. This add would change:\n%sIf these settings really changed, run the same add with --replace; to keep both, add this one under another name",
		o.Cluster.Name, b.String())
}
