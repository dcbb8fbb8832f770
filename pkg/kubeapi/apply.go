package kubeapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

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

// Apply sends doc as an apply patch to the object it names.
func (r *REST) Apply(ctx context.Context, doc []byte, o ApplyOptions) (*Applied, error) {
	a, res, err := identify(doc)
	if err != nil {
		return nil, err
	}
	req := r.request(http.MethodPatch).SetHeader("Content-Type", string(types.ApplyPatchType)).
		AbsPath(res.prefix, "namespaces", a.Namespace, res.resource, a.Name).
		Param("fieldManager", o.FieldManager).
		Param("force", strconv.FormatBool(o.Force)).
		Body(doc)
	if o.DryRun {
		req = req.Param("dryRun", metav1.DryRunAll)
	}
	return a, req.Do(ctx).Error()
}

// resource is where server-side apply sends one kind.
type resource struct {
	prefix   string // /api/v1 or /apis/GROUP/VERSION
	resource string
	short    string // kubectl's name: resource.group or resource
}

// resources maps every apiVersion/kind securekapi applies to its REST
// path: a static table instead of discovery, which would cost a round trip
// per group and pull client-go's discovery into the binary. Every kind in
// it is namespaced, which identify relies on.
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
	// Without a namespace the path would be .../namespaces//KIND/NAME, which
	// the API server answers with a confusing 404; without a name, a PATCH
	// to the collection. Neither is what the YAML meant.
	if head.Metadata.Namespace == "" || head.Metadata.Name == "" {
		return nil, resource{}, fmt.Errorf("cannot apply %s %q: a %s needs metadata.name and metadata.namespace; set both in the YAML", head.Kind, head.Metadata.Name, head.Kind)
	}
	return &Applied{APIVersion: head.APIVersion, Kind: head.Kind, Namespace: head.Metadata.Namespace, Name: head.Metadata.Name, Resource: res.short}, res, nil
}
