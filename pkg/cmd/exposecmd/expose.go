// Package exposecmd is `kubectl securekapi expose`, for platform owners: it
// writes (or server-side applies) the trusted secondary endpoint in front of
// kube-apiserver, and holds `expose authn-config` as a subcommand.
package exposecmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/cmd/authnconfigcmd"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/expose"
	"github.com/securekapi/securekapi/pkg/kubeapi"
)

// ExposeOptions generates (and optionally applies) the proxy configuration
// that gives a cluster its trusted secondary endpoint.
type ExposeOptions struct {
	genericiooptions.IOStreams
	Now        func() time.Time
	RESTConfig func(timeout time.Duration) (*rest.Config, error)

	expose.Options

	// Via is --via, as typed; Options.Via once validated.
	Via string
	// ClusterCAFile reads the cluster CA from a file instead of the cluster.
	ClusterCAFile string
	Apply         bool
	DryRun        string // none, client or server
	FieldManager  string
	Force         bool

	// Cluster reaches the cluster; nil means the kubeconfig's, built when
	// the cluster is needed. Tests may set it.
	Cluster kubeapi.Client

	changed func(name string) bool
	restCfg *rest.Config
}

// The flags that only make sense for one kind of via.
var (
	haproxyOnlyFlags    = []string{"bind", "cert-file", "ca-file", "upstream"}
	kubernetesOnlyFlags = []string{"tls-secret", "namespace", "name", "class", "apply", "field-manager", "force-conflicts"}
)

// NewCmdExpose returns the expose command.
func NewCmdExpose(g *cmdutil.Factory) *cobra.Command { return newCmdExpose(g, nil) }

// newCmdExpose wires the flags to ExposeOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdExpose(g *cmdutil.Factory, runF func(*ExposeOptions) error) *cobra.Command {
	o := &ExposeOptions{IOStreams: g.IOStreams, Now: g.Now, RESTConfig: g.RESTConfig}
	vias := make([]string, 0, len(expose.Vias()))
	for _, v := range expose.Vias() {
		vias = append(vias, string(v))
	}
	cmd := &cobra.Command{
		Use:   "expose --host DNS-NAME --via " + strings.Join(vias, "|") + " (--tls-secret NAME | --cert-file PEM --ca-file PATH)",
		Short: "For platform owners: generate (or apply) the trusted secondary endpoint in front of kube-apiserver",
		Long: `For platform owners: write what to deploy so that third parties reach this
cluster's API server through a proxy presenting a certificate they already
trust (--tls-secret, or --cert-file for haproxy), which re-encrypts to
kube-apiserver and verifies it against the cluster CA.

The cluster is read through your kubeconfig (--kubeconfig, --context): the
cluster CA from ConfigMap default/kube-root-ca.crt, and the TLS secret is
checked to exist, to be of type kubernetes.io/tls and to hold a certificate
for --host. Without access to the cluster, pass --cluster-ca-file.

Stdout gets the YAML to apply (contour, gateway, ingress-nginx) or the
haproxy.cfg (haproxy); --apply applies the objects with server-side apply
instead. Warnings go to stderr: read them, the proxy changes how users
authenticate.`,
		Example: `  # Contour: review, then apply
  kubectl securekapi expose --via contour --host kapi.example.com --tls-secret kapi-tls > endpoint.yaml
  kubectl securekapi expose --via contour --host kapi.example.com --tls-secret kapi-tls --apply

  # Gateway API, Gateway in another namespace; check with the server first
  kubectl securekapi expose --via gateway --host kapi.example.com --namespace edge \
    --tls-secret certs/kapi-tls --class eg --apply --dry-run=server

  # A standalone HAProxy in front of the control plane nodes
  kubectl securekapi expose --via haproxy --host kapi.example.com --bind 0.0.0.0:443 \
    --cert-file /etc/haproxy/kapi.pem --ca-file /etc/haproxy/cluster-ca.crt \
    --upstream 10.0.0.10:6443 --upstream 10.0.0.11:6443 > /etc/haproxy/haproxy.cfg

  # Offline, with the cluster CA saved earlier (the TLS secret is not checked)
  kubectl securekapi expose --via ingress-nginx --host kapi.example.com --tls-secret kapi-tls \
    --cluster-ca-file cluster-ca.crt`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, runF),
	}
	f := cmd.Flags()
	f.StringVar(&o.Host, "host", "", "DNS name of the endpoint, as on its certificate and as third parties type it")
	f.StringVar(&o.Via, "via", "", "Proxy that serves the endpoint: "+strings.Join(vias, ", "))
	f.StringVar(&o.TLSSecret, "tls-secret", "", "Secret (type kubernetes.io/tls) with the endpoint's certificate chain and key: NAME (in --namespace) or NAMESPACE/NAME")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "Namespace of the generated objects (default \"default\"; some must sit in \"default\" next to Service kubernetes, the output shows which)")
	f.StringVar(&o.Name, "name", "", "Base name of the generated objects (default \"securekapi\")")
	f.StringVar(&o.Class, "class", "", "gatewayClassName (gateway) or ingressClassName (ingress-nginx, contour)")
	f.StringVar(&o.ClusterCAFile, "cluster-ca-file", "", "Read the cluster CA from this PEM file instead of ConfigMap default/kube-root-ca.crt (works offline; then the TLS secret is not checked)")
	f.BoolVar(&o.Apply, "apply", false, "Apply the objects to the cluster with server-side apply instead of printing them")
	f.StringVar(&o.DryRun, "dry-run", "none", "none, client (print only) or server (with --apply: the API server validates without persisting)")
	f.StringVar(&o.FieldManager, "field-manager", "securekapi", "Field manager name for server-side apply")
	f.BoolVar(&o.Force, "force-conflicts", false, "With --apply: take over fields another field manager owns")
	f.StringVar(&o.Bind, "bind", "0.0.0.0:443", "haproxy: address to listen on")
	f.StringVar(&o.CertFile, "cert-file", "", "haproxy: PEM file with the endpoint's certificate chain and private key")
	f.StringVar(&o.CAFile, "ca-file", "", "haproxy: file where securekapi writes the cluster CA and haproxy reads it to verify kube-apiserver")
	f.StringArrayVar(&o.Upstreams, "upstream", nil, "haproxy: a kube-apiserver as host:port; repeatable (default: the kubeconfig cluster's server)")
	_ = cmd.RegisterFlagCompletionFunc("via", cobra.FixedCompletions(vias, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(authnconfigcmd.NewCmdAuthnConfig(g))
	return cmd
}

// Complete normalises the flags and locates the cluster when it is needed.
func (o *ExposeOptions) Complete(c *cobra.Command, _ []string) error {
	o.changed = func(string) bool { return false }
	if c != nil {
		o.changed = c.Flags().Changed
	}
	o.Options.Via = expose.Via(o.Via)
	// A fully qualified name's trailing dot is not part of the name on
	// certificates or in Host headers.
	o.Host = strings.TrimSuffix(o.Host, ".")
	// haproxy.cfg names these files as its (Unix) host sees them: a path
	// absolute there is kept as given, also on Windows, where filepath.Abs
	// would add a drive letter; a relative one is made absolute here.
	for _, p := range []*string{&o.CertFile, &o.CAFile} {
		if path.IsAbs(*p) {
			*p = path.Clean(*p)
		} else if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return err
			}
			*p = abs
		}
	}
	if o.FieldManager == "" {
		o.FieldManager = "securekapi"
	}
	return nil
}

// Validate checks everything that needs no cluster, so a typo fails
// before any network call.
func (o *ExposeOptions) Validate() error {
	if err := expose.CheckVia(o.Options.Via); err != nil {
		return err
	}
	isHAProxy := o.Options.Via == expose.HAProxy
	wrong, right := haproxyOnlyFlags, "haproxy"
	if isHAProxy {
		wrong, right = kubernetesOnlyFlags, "contour, gateway or ingress-nginx"
	}
	for _, name := range wrong {
		if o.changed(name) {
			return fmt.Errorf("--%s applies only with --via %s", name, right)
		}
	}
	switch o.DryRun {
	case "none", "client":
	case "server":
		if !o.Apply {
			return errors.New("--dry-run=server checks an apply: add --apply (nothing is persisted)")
		}
	default:
		return fmt.Errorf("--dry-run %q: use none, client or server", o.DryRun)
	}
	if isHAProxy {
		if o.CertFile == "" {
			return errors.New("--via haproxy needs --cert-file: the PEM file with the endpoint's certificate chain and private key")
		}
		if o.CAFile == "" {
			return errors.New("--via haproxy needs --ca-file: the file where securekapi writes the cluster CA for haproxy to verify kube-apiserver with")
		}
	}
	// The cluster CA and the default upstream come from the cluster (or
	// --cluster-ca-file) in Run; everything else is checked now.
	return expose.ValidateSettings(o.Options)
}

// Run reads the cluster, checks the certificate, generates, and prints or
// applies.
func (o *ExposeOptions) Run(ctx context.Context) error {
	isHAProxy := o.Options.Via == expose.HAProxy
	var warnings []string
	if isHAProxy {
		w, err := expose.CheckCertFile(o.CertFile, o.Host, o.Now())
		if err != nil {
			return err
		}
		warnings = append(warnings, w...)
	}

	offline := o.ClusterCAFile != "" && !o.Apply
	if o.ClusterCAFile != "" {
		data, err := os.ReadFile(o.ClusterCAFile)
		if err != nil {
			return fmt.Errorf("--cluster-ca-file: %w", err)
		}
		o.ClusterCAPEM = data
	} else {
		ca, err := o.fetchClusterCA(ctx)
		if err != nil {
			return err
		}
		o.ClusterCAPEM = ca
	}

	if !isHAProxy {
		if offline {
			warnings = append(warnings, fmt.Sprintf("Not checking TLS secret %s: with --cluster-ca-file securekapi does not read the cluster. "+
				"Make sure it exists, is of type kubernetes.io/tls and holds a certificate for %s.", o.secretPath(), o.Host))
		} else {
			w, err := o.checkTLSSecret(ctx)
			if err != nil {
				return err
			}
			warnings = append(warnings, w...)
		}
	}

	if isHAProxy && len(o.Upstreams) == 0 {
		up, err := o.defaultUpstream()
		if err != nil {
			return err
		}
		o.Upstreams = []string{up}
		fmt.Fprintf(o.ErrOut, "Upstream: %s (the kubeconfig cluster's server; pass --upstream for each kube-apiserver)\n", up)
	}

	out, err := expose.Generate(o.Options)
	if err != nil {
		return err
	}
	for _, w := range append(expose.Warnings(o.Options.Via), warnings...) {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
	}
	if isHAProxy {
		if err := atomicfile.WriteMode(o.CAFile, o.ClusterCAPEM, 0o644); err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		fmt.Fprintf(o.ErrOut, "Wrote the cluster CA to %s\n", o.CAFile)
	}
	if !o.Apply || o.DryRun == "client" {
		_, err := o.Out.Write(out.Text)
		return err
	}
	return o.applyAll(ctx, out.Objects)
}

// secretPath is --tls-secret as namespace/name (Validate checked it).
func (o *ExposeOptions) secretPath() string {
	ns, name, _ := o.SecretRef()
	return ns + "/" + name
}
