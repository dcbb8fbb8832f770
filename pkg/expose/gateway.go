package expose

// Gateway API (gateway.networking.k8s.io), only the fields used here.
const gatewayGroup = "gateway.networking.k8s.io"

type gatewaySpec struct {
	GatewayClassName string     `json:"gatewayClassName"`
	Listeners        []listener `json:"listeners"`
}

type listener struct {
	Name          string        `json:"name"`
	Hostname      string        `json:"hostname"`
	Port          int           `json:"port"`
	Protocol      string        `json:"protocol"`
	TLS           listenerTLS   `json:"tls"`
	AllowedRoutes allowedRoutes `json:"allowedRoutes"`
}

type listenerTLS struct {
	Mode            string `json:"mode"`
	CertificateRefs []ref  `json:"certificateRefs"`
}

// ref is every Gateway API reference shape used here; Group is always
// written because "" (the core group) is meaningful.
type ref struct {
	Group       string `json:"group"`
	Kind        string `json:"kind"`
	Name        string `json:"name,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	SectionName string `json:"sectionName,omitempty"`
	Port        int    `json:"port,omitempty"`
}

type allowedRoutes struct {
	Namespaces routeNamespaces `json:"namespaces"`
	Kinds      []ref           `json:"kinds"`
}

type routeNamespaces struct {
	From     string         `json:"from"`
	Selector *labelSelector `json:"selector,omitempty"`
}

type labelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

type httpRouteSpec struct {
	ParentRefs []ref       `json:"parentRefs"`
	Hostnames  []string    `json:"hostnames"`
	Rules      []routeRule `json:"rules"`
}

type routeRule struct {
	BackendRefs []ref         `json:"backendRefs"`
	Timeouts    routeTimeouts `json:"timeouts"`
}

type routeTimeouts struct {
	Request string `json:"request"`
}

type backendTLSPolicySpec struct {
	TargetRefs []ref             `json:"targetRefs"`
	Validation backendValidation `json:"validation"`
}

type backendValidation struct {
	CACertificateRefs []ref  `json:"caCertificateRefs"`
	Hostname          string `json:"hostname"`
}

type referenceGrantSpec struct {
	From []ref `json:"from"`
	To   []ref `json:"to"`
}

const listenerName = "https"

// gatewayObjects builds a Gateway, its HTTPRoute and the BackendTLSPolicy.
//
// The Gateway goes to Namespace. The HTTPRoute and BackendTLSPolicy go to
// "default", next to Service "kubernetes": a policy can only target a
// Service in its own namespace, and a route in the same namespace needs no
// ReferenceGrant for its backend. The listener admits routes from
// "default" only. The cluster CA comes from the kube-root-ca.crt ConfigMap
// that Kubernetes keeps in every namespace, so nothing is copied.
func gatewayObjects(o Options) []object {
	secretNS, secretName, _ := secretRef(o.TLSSecret, o.Namespace) // validated
	cert := ref{Group: "", Kind: "Secret", Name: secretName}
	var objs []object
	if secretNS != o.Namespace {
		cert.Namespace = secretNS
		objs = append(objs, secretGrant(o, secretNS, secretName))
	}
	return append(objs,
		object{APIVersion: gatewayGroup + "/v1", Kind: "Gateway", Metadata: newMeta(o.Name, o.Namespace), Spec: gatewaySpec{
			GatewayClassName: o.Class,
			Listeners: []listener{{
				Name: listenerName, Hostname: o.Host, Port: 443, Protocol: "HTTPS",
				TLS:           listenerTLS{Mode: "Terminate", CertificateRefs: []ref{cert}},
				AllowedRoutes: routesFromDefault(o),
			}},
		}},
		object{APIVersion: gatewayGroup + "/v1", Kind: "HTTPRoute", Metadata: newMeta(o.Name, apiServerNamespace), Spec: httpRouteSpec{
			ParentRefs: []ref{{Group: gatewayGroup, Kind: "Gateway", Name: o.Name, Namespace: o.Namespace, SectionName: listenerName}},
			Hostnames:  []string{o.Host},
			Rules: []routeRule{{
				BackendRefs: []ref{{Group: "", Kind: "Service", Name: apiServerService, Port: apiServerPort}},
				// "0s" turns the request timeout off, so watches and
				// `logs -f` are not cut.
				Timeouts: routeTimeouts{Request: "0s"},
			}},
		}},
		object{APIVersion: gatewayGroup + "/v1", Kind: "BackendTLSPolicy", Metadata: newMeta(o.Name, apiServerNamespace), Spec: backendTLSPolicySpec{
			TargetRefs: []ref{{Group: "", Kind: "Service", Name: apiServerService}},
			Validation: backendValidation{
				CACertificateRefs: []ref{{Group: "", Kind: "ConfigMap", Name: "kube-root-ca.crt"}},
				Hostname:          apiServerServerName,
			},
		}},
	)
}

func routesFromDefault(o Options) allowedRoutes {
	ar := allowedRoutes{Namespaces: routeNamespaces{From: "Same"}, Kinds: []ref{{Group: gatewayGroup, Kind: "HTTPRoute"}}}
	if o.Namespace != apiServerNamespace {
		ar.Namespaces = routeNamespaces{From: "Selector", Selector: &labelSelector{
			MatchLabels: map[string]string{"kubernetes.io/metadata.name": apiServerNamespace},
		}}
	}
	return ar
}

// secretGrant lets the Gateway use a TLS secret from another namespace.
func secretGrant(o Options, secretNS, secretName string) object {
	return object{
		APIVersion: gatewayGroup + "/v1beta1",
		Kind:       "ReferenceGrant",
		Metadata:   newMeta(o.Name+"-tls", secretNS),
		Spec: referenceGrantSpec{
			From: []ref{{Group: gatewayGroup, Kind: "Gateway", Namespace: o.Namespace}},
			To:   []ref{{Group: "", Kind: "Secret", Name: secretName}},
		},
	}
}
