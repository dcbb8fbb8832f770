// Package kubeapi is the Kubernetes API access securekapi's platform-owner
// commands need, on client-go's REST client: read a ConfigMap's data and a
// Secret, and server-side apply YAML documents with kubectl apply
// --server-side semantics (field manager, conflicts, server dry run).
//
// Errors from the API server are client-go's (k8s.io/apimachinery's
// api/errors: IsNotFound, IsForbidden, IsConflict); any other error means
// the server was not reached or did not answer like an API server.
//
// It decodes with a scheme of metav1's Status only, not client-go's typed
// scheme, whose init every full-CLI start would pay for.
package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// Client is the cluster access a command needs; REST is the real one.
type Client interface {
	// ConfigMapData is a ConfigMap's data.
	ConfigMapData(ctx context.Context, namespace, name string) (map[string]string, error)
	// Secret is a Secret's type and data.
	Secret(ctx context.Context, namespace, name string) (*Secret, error)
	// Apply server-side applies one YAML document (one object).
	Apply(ctx context.Context, doc []byte, o ApplyOptions) (*Applied, error)
}

// Secret is what a command reads of a Secret.
type Secret struct {
	Type string            `json:"type"`
	Data map[string][]byte `json:"data"`
}

// ApplyOptions are kubectl apply --server-side's.
type ApplyOptions struct {
	FieldManager string
	// Force takes over fields another field manager owns (--force-conflicts).
	Force bool
	// DryRun has the API server validate without persisting.
	DryRun bool
}

// Applied names the object an Apply sent, as kubectl prints it.
type Applied struct {
	APIVersion, Kind, Namespace, Name string
	// Resource is kubectl's name for the kind: resource.group, or resource
	// for the core group (secret, httpproxy.projectcontour.io).
	Resource string
}

// REST is Client on client-go's REST client.
type REST struct {
	client *rest.RESTClient
}

// NewREST builds the client for a kubeconfig's rest.Config.
func NewREST(cfg *rest.Config) (*REST, error) {
	c := rest.CopyConfig(cfg)
	c.NegotiatedSerializer = codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = "securekapi"
	}
	client, err := rest.UnversionedRESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig cluster %s: %w", cfg.Host, err)
	}
	return &REST{client: client}, nil
}

// codecs decode the Status the API server sends with an error.
var codecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return serializer.NewCodecFactory(s)
}()

func (r *REST) get(ctx context.Context, apiPath string, out any) error {
	data, err := r.client.Get().AbsPath(apiPath).Do(ctx).Raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GET %s: not an API server's answer: %w", apiPath, err)
	}
	return nil
}

// Version is the major and minor of the API server's /version.
func (r *REST) Version(ctx context.Context) (major, minor string, err error) {
	var info struct{ Major, Minor string }
	if err := r.get(ctx, "/version", &info); err != nil {
		return "", "", err
	}
	return info.Major, info.Minor, nil
}

// ServiceAccountIssuer is the issuer of the cluster's service-account
// discovery document: the --service-account-issuer kube-apiserver signs with.
func (r *REST) ServiceAccountIssuer(ctx context.Context) (string, error) {
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := r.get(ctx, "/.well-known/openid-configuration", &doc); err != nil {
		return "", err
	}
	return doc.Issuer, nil
}

// ConfigMapData reads a ConfigMap's data.
func (r *REST) ConfigMapData(ctx context.Context, namespace, name string) (map[string]string, error) {
	var cm struct {
		Data map[string]string `json:"data"`
	}
	err := r.get(ctx, path.Join("/api/v1/namespaces", namespace, "configmaps", name), &cm)
	return cm.Data, err
}

// Secret reads a Secret.
func (r *REST) Secret(ctx context.Context, namespace, name string) (*Secret, error) {
	var s Secret
	if err := r.get(ctx, path.Join("/api/v1/namespaces", namespace, "secrets", name), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Apply sends doc as an apply patch to the object it names.
func (r *REST) Apply(ctx context.Context, doc []byte, o ApplyOptions) (*Applied, error) {
	a, res, err := identify(doc)
	if err != nil {
		return nil, err
	}
	req := r.client.Patch(types.ApplyPatchType).
		AbsPath(res.prefix, "namespaces", a.Namespace, res.resource, a.Name).
		Param("fieldManager", o.FieldManager).
		Param("force", strconv.FormatBool(o.Force)).
		Body(doc)
	if o.DryRun {
		req = req.Param("dryRun", metav1.DryRunAll)
	}
	return a, req.Do(ctx).Error()
}

// IsAPIError reports whether err is the API server's answer (a Status),
// rather than a failure to reach it.
func IsAPIError(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}

// resource is where server-side apply sends one kind.
type resource struct {
	prefix   string // /api/v1 or /apis/GROUP/VERSION
	resource string
	short    string // kubectl's name: resource.group or resource
}

// resources maps every apiVersion/kind securekapi applies to its REST
// path: a static table instead of discovery, which would cost a round trip
// per group and pull client-go's discovery into the binary.
var resources = map[string]resource{
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

// identify reads which object doc is, and where it is applied.
func identify(doc []byte) (*Applied, resource, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return nil, resource{}, fmt.Errorf("the YAML to apply does not parse: %w", err)
	}
	res, ok := resources[head.APIVersion+"/"+head.Kind]
	if !ok {
		return nil, resource{}, fmt.Errorf("cannot apply %s %s: securekapi does not know its resource path; apply the printed YAML with kubectl instead", head.APIVersion, head.Kind)
	}
	return &Applied{APIVersion: head.APIVersion, Kind: head.Kind, Namespace: head.Metadata.Namespace, Name: head.Metadata.Name, Resource: res.short}, res, nil
}

// Identify is which object doc is, as Apply would report it.
func Identify(doc []byte) (*Applied, error) {
	a, _, err := identify(doc)
	return a, err
}
