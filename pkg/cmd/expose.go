package cmd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/pkg/expose"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
)

// ExposeOptions generates (and optionally applies) the proxy configuration
// that gives a cluster its trusted secondary endpoint.
type ExposeOptions struct {
	*GlobalOptions
	expose.Options

	// Via is --via, as typed; Options.Via once validated.
	Via string
	// ClusterCAFile reads the cluster CA from a file instead of the cluster.
	ClusterCAFile string
	Apply         bool
	DryRun        string // none, client or server
	FieldManager  string
	Force         bool

	// HTTPClient and BaseURL reach the cluster; Complete sets them from the
	// kubeconfig when the cluster is needed. Tests may set them directly.
	HTTPClient *http.Client
	BaseURL    *url.URL

	changed func(name string) bool
	restCfg *rest.Config
}

// The flags that only make sense for one kind of via.
var (
	haproxyOnlyFlags    = []string{"bind", "cert-file", "ca-file", "upstream"}
	kubernetesOnlyFlags = []string{"tls-secret", "namespace", "name", "class", "apply", "field-manager", "force-conflicts"}
)

// kubeRootCA is the ConfigMap kube-controller-manager publishes in every
// namespace; its ca.crt is the cluster CA kube-apiserver's certificate
// chains to.
const (
	kubeRootCANamespace = "default"
	kubeRootCAName      = "kube-root-ca.crt"
	requestTimeout      = 15 * time.Second
)

// NewCmdExpose returns the expose command.
func NewCmdExpose(g *GlobalOptions) *cobra.Command {
	o := &ExposeOptions{GlobalOptions: g}
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
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c.Flags()); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
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
	cmd.AddCommand(NewCmdAuthnConfig(g))
	return cmd
}

// Complete normalises the flags and locates the cluster when it is needed.
func (o *ExposeOptions) Complete(fs *pflag.FlagSet) error {
	o.changed = func(string) bool { return false }
	if fs != nil {
		o.changed = fs.Changed
	}
	o.Options.Via = expose.Via(o.Via)
	// A fully qualified name's trailing dot is not part of the name on
	// certificates or in Host headers.
	o.Host = strings.TrimSuffix(o.Host, ".")
	for _, p := range []*string{&o.CertFile, &o.CAFile} {
		if *p != "" {
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
	if !knownVia(o.Options.Via) {
		return expose.Validate(expose.Options{Via: o.Options.Via}) // names the vias
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
	// The real cluster CA comes later (from the cluster or --cluster-ca-file);
	// a stand-in lets expose.Validate check every other setting now.
	stand := o.Options
	stand.ClusterCAPEM = standInCA()
	if isHAProxy && len(stand.Upstreams) == 0 {
		stand.Upstreams = []string{"127.0.0.1:6443"} // defaulted from kubeconfig later
	}
	if err := expose.Validate(stand); err != nil {
		return err
	}
	return nil
}

func knownVia(v expose.Via) bool {
	for _, k := range expose.Vias() {
		if v == k {
			return true
		}
	}
	return false
}

// Run reads the cluster, checks the certificate, generates, and prints or
// applies.
func (o *ExposeOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	isHAProxy := o.Options.Via == expose.HAProxy
	var warnings []string
	if isHAProxy {
		w, err := checkCertFile(o.CertFile, o.Host, o.Now())
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
		if err := writePublicFileAtomic(o.CAFile, o.ClusterCAPEM); err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		fmt.Fprintf(o.ErrOut, "Wrote the cluster CA to %s\n", o.CAFile)
	}
	if !o.Apply || o.DryRun == "client" {
		_, err := o.Out.Write(out)
		return err
	}
	return o.applyAll(ctx, out)
}

// secretPath is --tls-secret as namespace/name.
func (o *ExposeOptions) secretPath() string {
	ns, name := o.secretRef()
	return ns + "/" + name
}

func (o *ExposeOptions) secretRef() (ns, name string) {
	ns, name, found := strings.Cut(o.TLSSecret, "/")
	if !found {
		ns, name = o.Namespace, o.TLSSecret
		if ns == "" {
			ns = "default"
		}
	}
	return ns, name
}

// restConfig loads the kubeconfig with client-go's rules (--kubeconfig,
// else $KUBECONFIG, else ~/.kube/config; --context).
func (o *ExposeOptions) restConfig() (*rest.Config, error) {
	if o.restCfg != nil {
		return o.restCfg, nil
	}
	files, err := (&kubeconfig.Store{ExplicitPath: o.Kubeconfig, Getenv: o.Getenv}).Files()
	if err != nil {
		return nil, err
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: files}
	if o.Kubeconfig != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: o.Kubeconfig}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot find the cluster in your kubeconfig (%v): pass --kubeconfig and --context, "+
			"or work offline with --cluster-ca-file FILE (the cluster's ca.crt)", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = requestTimeout
	}
	o.restCfg = cfg
	return cfg, nil
}

// cluster returns the HTTP client and base URL for the kubeconfig cluster.
func (o *ExposeOptions) cluster() (*http.Client, *url.URL, error) {
	if o.HTTPClient != nil && o.BaseURL != nil {
		return o.HTTPClient, o.BaseURL, nil
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, nil, err
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig server %q: %w", cfg.Host, err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig cluster %s: %w", cfg.Host, err)
	}
	o.HTTPClient, o.BaseURL = client, base
	return client, base, nil
}

// defaultUpstream is the kubeconfig cluster's server as host:port.
func (o *ExposeOptions) defaultUpstream() (string, error) {
	var base *url.URL
	if o.BaseURL != nil {
		base = o.BaseURL
	} else {
		cfg, err := o.restConfig()
		if err != nil {
			return "", fmt.Errorf("no --upstream and %w", err)
		}
		if base, _, err = rest.DefaultServerUrlFor(cfg); err != nil {
			return "", fmt.Errorf("no --upstream, and the kubeconfig server %q: %w", cfg.Host, err)
		}
	}
	port := base.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(base.Hostname(), port), nil
}

// apiStatus is the part of a metav1.Status error body worth showing.
type apiStatus struct {
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// apiError is a non-2xx answer from the API server.
type apiError struct {
	Code   int
	Status apiStatus
}

func (e *apiError) Error() string {
	if e.Status.Message != "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Status.Message, e.Code)
	}
	return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
}

// unreachableError says the cluster could not be reached at all.
type unreachableError struct {
	Server string
	Err    error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the cluster at %s: %v; check --kubeconfig and --context, "+
		"or work offline with --cluster-ca-file FILE (the cluster's CA: ca.crt of ConfigMap kube-root-ca.crt, "+
		"or certificate-authority-data in an admin kubeconfig)", e.Server, e.Err)
}

func (e *unreachableError) Unwrap() error { return e.Err }

// do sends one request to the cluster and decodes a JSON answer into out.
func (o *ExposeOptions) do(ctx context.Context, method, apiPath string, query url.Values, contentType string, body []byte, out any) error {
	client, base, err := o.cluster()
	if err != nil {
		return err
	}
	u := *base
	u.Path = path.Join("/", base.Path, apiPath)
	u.RawQuery = query.Encode()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return &unreachableError{Server: base.String(), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &unreachableError{Server: base.String(), Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{Code: resp.StatusCode}
		_ = json.Unmarshal(data, &e.Status)
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unexpected answer: %w", method, apiPath, err)
		}
	}
	return nil
}

// fetchClusterCA reads ca.crt of ConfigMap default/kube-root-ca.crt.
func (o *ExposeOptions) fetchClusterCA(ctx context.Context) ([]byte, error) {
	var cm struct {
		Data map[string]string `json:"data"`
	}
	err := o.do(ctx, http.MethodGet, "/api/v1/namespaces/"+kubeRootCANamespace+"/configmaps/"+kubeRootCAName, nil, "", nil, &cm)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound:
		return nil, fmt.Errorf("the cluster has no ConfigMap %s in namespace %s; is kube-controller-manager running? "+
			"It publishes the cluster CA there. Start it, or pass the cluster CA with --cluster-ca-file FILE",
			kubeRootCAName, kubeRootCANamespace)
	case errors.As(err, &apiErr) && (apiErr.Code == http.StatusForbidden || apiErr.Code == http.StatusUnauthorized):
		return nil, fmt.Errorf("cannot read ConfigMap %s/%s for the cluster CA: %w; use a kubeconfig (--kubeconfig, --context) "+
			"that may read it, or pass --cluster-ca-file FILE", kubeRootCANamespace, kubeRootCAName, err)
	case err != nil:
		return nil, fmt.Errorf("read the cluster CA (ConfigMap %s/%s): %w", kubeRootCANamespace, kubeRootCAName, err)
	}
	ca := cm.Data["ca.crt"]
	if strings.TrimSpace(ca) == "" {
		return nil, fmt.Errorf("ConfigMap %s/%s has no ca.crt; pass the cluster CA with --cluster-ca-file FILE", kubeRootCANamespace, kubeRootCAName)
	}
	return []byte(ca), nil
}

// checkTLSSecret refuses a missing or ill-formed secret and warns when its
// certificate does not cover the host. Being forbidden to read secrets
// only warns: creating objects may be allowed where reading secrets is not.
func (o *ExposeOptions) checkTLSSecret(ctx context.Context) ([]string, error) {
	ns, name := o.secretRef()
	var secret struct {
		Type string            `json:"type"`
		Data map[string][]byte `json:"data"`
	}
	create := fmt.Sprintf("kubectl create secret tls %s -n %s --cert=FULLCHAIN.pem --key=KEY.pem", name, ns)
	err := o.do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/secrets/"+name, nil, "", nil, &secret)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == http.StatusNotFound:
		return nil, fmt.Errorf("TLS secret %s/%s does not exist: create it with the endpoint's certificate chain and key (%s), then run expose again", ns, name, create)
	case errors.As(err, &apiErr) && apiErr.Code == http.StatusForbidden:
		return []string{fmt.Sprintf("Cannot read TLS secret %s/%s (%v), so it was not checked: make sure it exists and holds a certificate for %s.", ns, name, err, o.Host)}, nil
	case err != nil:
		return nil, fmt.Errorf("read TLS secret %s/%s: %w", ns, name, err)
	}
	if secret.Type != "kubernetes.io/tls" {
		return nil, fmt.Errorf("secret %s/%s is of type %q, not kubernetes.io/tls, so proxies will not serve it: recreate it with %s", ns, name, secret.Type, create)
	}
	crt, key := secret.Data["tls.crt"], secret.Data["tls.key"]
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("TLS secret %s/%s lacks tls.crt or tls.key: recreate it with %s", ns, name, create)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("TLS secret %s/%s does not hold a usable certificate and key (%v): recreate it with %s", ns, name, err, create)
	}
	return certWarnings(pair, fmt.Sprintf("TLS secret %s/%s", ns, name), o.Host, o.Now()), nil
}

// checkCertFile checks haproxy's crt file: the chain and its key in one PEM.
func checkCertFile(file, host string, now time.Time) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--cert-file: %w", err)
	}
	pair, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, fmt.Errorf("--cert-file %s: %v: it must hold the endpoint's certificate chain (leaf first) and its private key, in PEM", file, err)
	}
	return certWarnings(pair, file, host, now), nil
}

// certWarnings reports what would make third parties' checks fail.
func certWarnings(pair tls.Certificate, where, host string, now time.Time) []string {
	leaf := pair.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return []string{fmt.Sprintf("%s: cannot parse the certificate: %v", where, err)}
		}
	}
	var w []string
	if err := leaf.VerifyHostname(host); err != nil {
		w = append(w, fmt.Sprintf("The certificate in %s is not valid for %s (it names %s): third parties will get a name mismatch. "+
			"Use a certificate for %s.", where, host, strings.Join(leaf.DNSNames, ", "), host))
	}
	switch {
	case now.After(leaf.NotAfter):
		w = append(w, fmt.Sprintf("The certificate in %s expired on %s: renew it.", where, leaf.NotAfter.Format(time.DateOnly)))
	case now.Before(leaf.NotBefore):
		w = append(w, fmt.Sprintf("The certificate in %s is not valid before %s.", where, leaf.NotBefore.Format(time.DateOnly)))
	}
	if len(pair.Certificate) == 1 && !bytes.Equal(leaf.RawIssuer, leaf.RawSubject) {
		w = append(w, fmt.Sprintf("%s holds only the leaf certificate: add the issuing CA chain after it, so clients can verify "+
			"the endpoint and pin its CA (`kubectl securekapi pin`).", where))
	}
	return w
}

// applyTarget is where server-side apply sends one kind.
type applyTarget struct {
	prefix   string // /api/v1 or /apis/GROUP/VERSION
	resource string
	short    string // kubectl's name: resource.group or resource
}

// applyTargets maps every apiVersion/kind expose generates to its REST
// path: a static table instead of discovery, which would pull client-go's
// discovery and scheme into the binary.
var applyTargets = map[string]applyTarget{
	"v1/Secret":                      {"/api/v1", "secrets", "secret"},
	"v1/ConfigMap":                   {"/api/v1", "configmaps", "configmap"},
	"projectcontour.io/v1/HTTPProxy": {"/apis/projectcontour.io/v1", "httpproxies", "httpproxy.projectcontour.io"},
	"projectcontour.io/v1/TLSCertificateDelegation":    {"/apis/projectcontour.io/v1", "tlscertificatedelegations", "tlscertificatedelegation.projectcontour.io"},
	"gateway.networking.k8s.io/v1/Gateway":             {"/apis/gateway.networking.k8s.io/v1", "gateways", "gateway.gateway.networking.k8s.io"},
	"gateway.networking.k8s.io/v1/HTTPRoute":           {"/apis/gateway.networking.k8s.io/v1", "httproutes", "httproute.gateway.networking.k8s.io"},
	"gateway.networking.k8s.io/v1/BackendTLSPolicy":    {"/apis/gateway.networking.k8s.io/v1", "backendtlspolicies", "backendtlspolicy.gateway.networking.k8s.io"},
	"gateway.networking.k8s.io/v1beta1/ReferenceGrant": {"/apis/gateway.networking.k8s.io/v1beta1", "referencegrants", "referencegrant.gateway.networking.k8s.io"},
	"networking.k8s.io/v1/Ingress":                     {"/apis/networking.k8s.io/v1", "ingresses", "ingress.networking.k8s.io"},
}

// splitDocuments returns the YAML documents of a "---"-separated stream
// that hold an object (the leading comment block holds none).
func splitDocuments(stream []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if bytes.Contains(cur.Bytes(), []byte("kind:")) {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(stream, []byte("\n")) {
		if string(bytes.TrimRight(line, "\r\n")) == "---" {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

// applyAll server-side applies each generated object, in order, and prints
// kubectl's result lines on stdout.
func (o *ExposeOptions) applyAll(ctx context.Context, stream []byte) error {
	q := url.Values{"fieldManager": {o.FieldManager}, "force": {fmt.Sprint(o.Force)}}
	suffix := ""
	if o.DryRun == "server" {
		q.Set("dryRun", "All")
		suffix = " (server dry run)"
	}
	for _, doc := range splitDocuments(stream) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return fmt.Errorf("generated YAML does not parse (a bug in securekapi): %w", err)
		}
		t, ok := applyTargets[head.APIVersion+"/"+head.Kind]
		if !ok {
			return fmt.Errorf("cannot apply %s %s: securekapi does not know its resource path (a bug); apply the printed YAML with kubectl instead", head.APIVersion, head.Kind)
		}
		p := path.Join(t.prefix, "namespaces", head.Metadata.Namespace, t.resource, head.Metadata.Name)
		err := o.do(ctx, http.MethodPatch, p, q, "application/apply-patch+yaml", doc, nil)
		if err != nil {
			return applyError(err, t, head.APIVersion, head.Metadata.Namespace, head.Metadata.Name)
		}
		fmt.Fprintf(o.Out, "%s/%s serverside-applied%s\n", t.short, head.Metadata.Name, suffix)
	}
	return nil
}

func applyError(err error, t applyTarget, apiVersion, ns, name string) error {
	what := fmt.Sprintf("apply %s/%s in namespace %s", t.short, name, ns)
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case apiErr.Code == http.StatusNotFound && strings.Contains(apiErr.Status.Message, `namespaces "`):
		return fmt.Errorf("%s: %w; create the namespace first", what, err)
	case apiErr.Code == http.StatusNotFound:
		return fmt.Errorf("%s: the cluster does not serve %s (%w): install the proxy's CRDs (or choose another --via) and run again", what, apiVersion, err)
	case apiErr.Code == http.StatusConflict:
		return fmt.Errorf("%s: %w; another field manager owns these fields: check who (kubectl get -o yaml --show-managed-fields), "+
			"then re-run with --force-conflicts to take them over", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// writePublicFileAtomic writes a public file (a CA, a profile) mode 0644:
// a temp file in the same directory, synced, then renamed over path, so a
// reader (haproxy, a web server) never sees half a file.
func writePublicFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	for _, step := range []func() error{
		func() error { _, err := tmp.Write(data); return err },
		func() error { return tmp.Chmod(0o644) },
		tmp.Sync,
	} {
		if err := step(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// standInCA is a throwaway CA certificate for validating the other
// settings before the real cluster CA is read. It is never written out.
func standInCA() []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stand-in"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
