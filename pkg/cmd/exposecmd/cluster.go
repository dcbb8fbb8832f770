package exposecmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/expose"
	"github.com/securekapi/securekapi/pkg/kubeapi"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// kubeRootCA is the ConfigMap kube-controller-manager publishes in every
// namespace; its ca.crt is the cluster CA kube-apiserver's certificate
// chains to.
const (
	kubeRootCANamespace = "default"
	kubeRootCAName      = "kube-root-ca.crt"
	requestTimeout      = 15 * time.Second
)

// restConfig is the kubeconfig cluster's (see cmdutil.Factory.RESTConfig).
func (o *ExposeOptions) restConfig() (*rest.Config, error) {
	if o.restCfg != nil {
		return o.restCfg, nil
	}
	cfg, err := o.RESTConfig(requestTimeout)
	if err != nil {
		return nil, fmt.Errorf("%w, or work offline with --cluster-ca-file FILE (the cluster's ca.crt)", err)
	}
	o.restCfg = cfg
	return cfg, nil
}

// cluster is the kubeconfig cluster's API, unless a test set one.
func (o *ExposeOptions) cluster() (kubeapi.Client, error) {
	if o.Cluster != nil {
		return o.Cluster, nil
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := kubeapi.NewREST(cfg)
	if err != nil {
		return nil, err
	}
	o.Cluster = c
	return c, nil
}

// defaultUpstream is the kubeconfig cluster's server as host:port.
func (o *ExposeOptions) defaultUpstream() (string, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return "", fmt.Errorf("no --upstream and %w", err)
	}
	base, _, err := rest.DefaultServerUrlFor(cfg)
	if err == nil {
		var addr string
		if addr, err = (pinning.Endpoint{URL: base.String()}).Address(); err == nil {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no --upstream, and the kubeconfig server %q: %w", cfg.Host, err)
}

// reached turns a failure to reach the cluster at all into the way out;
// the API server's own answers pass through for the caller to explain.
func (o *ExposeOptions) reached(err error) error {
	if err == nil || kubeapi.IsAPIError(err) {
		return err
	}
	server := "the kubeconfig cluster"
	if cfg, cfgErr := o.restConfig(); cfgErr == nil {
		server = cfg.Host
	}
	return fmt.Errorf("cannot reach the cluster at %s: %w; check --kubeconfig and --context, "+
		"or work offline with --cluster-ca-file FILE (the cluster's CA: ca.crt of ConfigMap kube-root-ca.crt, "+
		"or certificate-authority-data in an admin kubeconfig)", server, err)
}

// fetchClusterCA reads ca.crt of ConfigMap default/kube-root-ca.crt.
func (o *ExposeOptions) fetchClusterCA(ctx context.Context) ([]byte, error) {
	c, err := o.cluster()
	if err != nil {
		return nil, err
	}
	data, err := c.ConfigMapData(ctx, kubeRootCANamespace, kubeRootCAName)
	switch err = o.reached(err); {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("the cluster has no ConfigMap %s in namespace %s; is kube-controller-manager running? "+
			"It publishes the cluster CA there. Start it, or pass the cluster CA with --cluster-ca-file FILE",
			kubeRootCAName, kubeRootCANamespace)
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("cannot read ConfigMap %s/%s for the cluster CA: %w; use a kubeconfig (--kubeconfig, --context) "+
			"that may read it, or pass --cluster-ca-file FILE", kubeRootCANamespace, kubeRootCAName, err)
	case err != nil:
		return nil, fmt.Errorf("read the cluster CA (ConfigMap %s/%s): %w", kubeRootCANamespace, kubeRootCAName, err)
	}
	ca := data["ca.crt"]
	if strings.TrimSpace(ca) == "" {
		return nil, fmt.Errorf("ConfigMap %s/%s has no ca.crt; pass the cluster CA with --cluster-ca-file FILE", kubeRootCANamespace, kubeRootCAName)
	}
	return []byte(ca), nil
}

// checkTLSSecret reads the TLS secret for expose.CheckTLSSecret, refusing a
// missing one. Being forbidden to read secrets only warns: creating objects
// may be allowed where reading secrets is not.
func (o *ExposeOptions) checkTLSSecret(ctx context.Context) ([]string, error) {
	ns, name, _ := o.SecretRef()
	c, err := o.cluster()
	if err != nil {
		return nil, err
	}
	secret, err := c.Secret(ctx, ns, name)
	switch err = o.reached(err); {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("TLS secret %s/%s does not exist: create it with the endpoint's certificate chain and key (%s), then run expose again", ns, name, expose.CreateTLSSecretCommand(ns, name))
	case apierrors.IsForbidden(err):
		return []string{fmt.Sprintf("Cannot read TLS secret %s/%s (%v), so it was not checked: make sure it exists and holds a certificate for %s.", ns, name, err, o.Host)}, nil
	case err != nil:
		return nil, fmt.Errorf("read TLS secret %s/%s: %w", ns, name, err)
	}
	return expose.CheckTLSSecret(expose.TLSSecret{Namespace: ns, Name: name, Type: secret.Type, Data: secret.Data}, o.Host, o.Now())
}

// applyAll server-side applies each generated object, in order, and prints
// kubectl's result lines on stdout.
func (o *ExposeOptions) applyAll(ctx context.Context, objects [][]byte) error {
	c, err := o.cluster()
	if err != nil {
		return err
	}
	opts := kubeapi.ApplyOptions{FieldManager: o.FieldManager, Force: o.Force, DryRun: o.DryRun == "server"}
	suffix := ""
	if opts.DryRun {
		suffix = " (server dry run)"
	}
	for _, doc := range objects {
		applied, err := c.Apply(ctx, doc, opts)
		if applied == nil {
			return fmt.Errorf("generated YAML cannot be applied (a bug in securekapi; please report it with this message at https://github.com/securekapi/securekapi/issues; meanwhile run without --apply and apply the YAML with kubectl): %w", err)
		}
		if err := o.reached(err); err != nil {
			return applyError(err, applied)
		}
		fmt.Fprintf(o.Out, "%s/%s serverside-applied%s\n", applied.Resource, applied.Name, suffix)
	}
	return nil
}

func applyError(err error, a *kubeapi.Applied) error {
	what := fmt.Sprintf("apply %s/%s in namespace %s", a.Resource, a.Name, a.Namespace)
	switch {
	case apierrors.IsNotFound(err) && strings.Contains(err.Error(), `namespaces "`):
		return fmt.Errorf("%s: %w; create the namespace first", what, err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: the cluster does not serve %s (%w): install the proxy's CRDs (or choose another --via) and run again", what, a.APIVersion, err)
	case apierrors.IsConflict(err):
		return fmt.Errorf("%s: %w; another field manager owns these fields: check who (kubectl get -o yaml --show-managed-fields), "+
			"then re-run with --force-conflicts to take them over", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
