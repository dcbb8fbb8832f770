package expose

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// object is any Kubernetes object expose writes. Plain structs, rather than
// the projects' Go API types, keep those modules out of the binary; the e2e
// tests check the output against the real CRDs in a real API server.
type object struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   meta              `json:"metadata"`
	Type       string            `json:"type,omitempty"`       // Secret only
	StringData map[string]string `json:"stringData,omitempty"` // Secret only
	Spec       any               `json:"spec,omitempty"`
}

type meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// newMeta labels every object, so a platform owner can find them all with
// kubectl get -l app.kubernetes.io/managed-by=securekapi.
func newMeta(name, namespace string) meta {
	return meta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "securekapi"}}
}

// clusterCASecret carries the cluster CA for proxies that read it from a
// Secret's ca.crt. stringData keeps the PEM readable in review.
func clusterCASecret(o Options, namespace string) object {
	return object{
		APIVersion: "v1",
		Kind:       "Secret",
		Metadata:   newMeta(clusterCASecretName(o), namespace),
		Type:       "Opaque",
		StringData: map[string]string{"ca.crt": string(o.ClusterCAPEM)},
	}
}

func clusterCASecretName(o Options) string { return o.Name + "-cluster-ca" }

// renderYAML writes the header, then the objects as one multi-document
// stream that kubectl apply -f accepts.
func renderYAML(o Options, objs []object) (*Output, error) {
	var b bytes.Buffer
	b.WriteString(header(o))
	out := &Output{}
	for _, obj := range objs {
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("render %s %s/%s: %w", obj.Kind, obj.Metadata.Namespace, obj.Metadata.Name, err)
		}
		b.WriteString("---\n")
		b.Write(y)
		out.Objects = append(out.Objects, y)
	}
	out.Text = b.Bytes()
	return out, nil
}
