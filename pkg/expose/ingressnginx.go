package expose

import "fmt"

// networking.k8s.io/v1 Ingress, only the fields used here.
type ingressSpec struct {
	IngressClassName string        `json:"ingressClassName"`
	TLS              []ingressTLS  `json:"tls"`
	Rules            []ingressRule `json:"rules"`
}

type ingressTLS struct {
	Hosts      []string `json:"hosts"`
	SecretName string   `json:"secretName"`
}

type ingressRule struct {
	Host string `json:"host"`
	HTTP struct {
		Paths []ingressPath `json:"paths"`
	} `json:"http"`
}

type ingressPath struct {
	Path     string `json:"path"`
	PathType string `json:"pathType"`
	Backend  struct {
		Service struct {
			Name string `json:"name"`
			Port struct {
				Number int `json:"number"`
			} `json:"port"`
		} `json:"service"`
	} `json:"backend"`
}

// ingressNginxObjects builds the Ingress and the CA Secret, both in
// "default" (Validate insists): an Ingress reaches only Services and TLS
// secrets in its own namespace.
func ingressNginxObjects(o Options) []object {
	_, secretName, _ := secretRef(o.TLSSecret, o.Namespace) // validated
	m := newMeta(o.Name, apiServerNamespace)
	m.Annotations = ingressNginxAnnotations(o)
	rule := ingressRule{Host: o.Host}
	var p ingressPath
	p.Path, p.PathType = "/", "Prefix"
	p.Backend.Service.Name = apiServerService
	p.Backend.Service.Port.Number = apiServerPort
	rule.HTTP.Paths = []ingressPath{p}
	return []object{
		clusterCASecret(o, apiServerNamespace),
		{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Metadata: m, Spec: ingressSpec{
			IngressClassName: o.Class,
			TLS:              []ingressTLS{{Hosts: []string{o.Host}, SecretName: secretName}},
			Rules:            []ingressRule{rule},
		}},
	}
}

// ingressNginxAnnotations make ingress-nginx re-encrypt and verify the API
// server's certificate against the cluster CA and its in-cluster name.
func ingressNginxAnnotations(o Options) map[string]string {
	const p = "nginx.ingress.kubernetes.io/"
	return map[string]string{
		p + "backend-protocol":      "HTTPS",
		p + "proxy-ssl-verify":      "on",
		p + "proxy-ssl-secret":      fmt.Sprintf("%s/%s", apiServerNamespace, clusterCASecretName(o)),
		p + "proxy-ssl-name":        apiServerServerName,
		p + "proxy-ssl-server-name": "on",
		// An hour: watches reconnect by themselves well before that.
		p + "proxy-read-timeout": "3600",
		p + "proxy-send-timeout": "3600",
		// Above kube-apiserver's own 3 MiB limit, so large applies get the
		// API server's answer, not nginx's default 1m "413".
		p + "proxy-body-size": "4m",
	}
}
