package expose

// Contour's HTTPProxy (projectcontour.io/v1), only the fields used here.
type httpProxySpec struct {
	IngressClassName string       `json:"ingressClassName,omitempty"`
	VirtualHost      *virtualHost `json:"virtualhost,omitempty"`
	Includes         []include    `json:"includes,omitempty"`
	Routes           []route      `json:"routes,omitempty"`
}

type virtualHost struct {
	FQDN string `json:"fqdn"`
	TLS  struct {
		SecretName string `json:"secretName"`
	} `json:"tls"`
}

type include struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

type route struct {
	EnableWebsockets bool          `json:"enableWebsockets"`
	TimeoutPolicy    timeoutPolicy `json:"timeoutPolicy"`
	Services         []service     `json:"services"`
}

type timeoutPolicy struct {
	Response string `json:"response"`
	Idle     string `json:"idle"`
}

type service struct {
	Name       string             `json:"name"`
	Port       int                `json:"port"`
	Protocol   string             `json:"protocol"`
	Validation upstreamValidation `json:"validation"`
}

type upstreamValidation struct {
	CASecret    string `json:"caSecret"`
	SubjectName string `json:"subjectName"`
}

type delegationSpec struct {
	Delegations []delegation `json:"delegations"`
}

type delegation struct {
	SecretName       string   `json:"secretName"`
	TargetNamespaces []string `json:"targetNamespaces"`
}

// contourObjects builds the HTTPProxy tree.
//
// An HTTPProxy routes only to Services in its own namespace, and Service
// "kubernetes" lives in "default". So the proxy holding the route, and the
// CA Secret its validation names, always go to "default". When Namespace is
// another one (Contour's --root-namespaces often demands it), the root
// HTTPProxy with the virtual host goes there and includes the one in
// "default": inclusion is Contour's way across namespaces. A TLS secret in
// a third namespace is granted to the root by a TLSCertificateDelegation.
func contourObjects(o Options) []object {
	objs := []object{clusterCASecret(o, apiServerNamespace)}
	secretNS, secretName, _ := secretRef(o.TLSSecret, o.Namespace) // validated
	vh := &virtualHost{FQDN: o.Host}
	vh.TLS.SecretName = secretName
	if secretNS != o.Namespace {
		vh.TLS.SecretName = secretNS + "/" + secretName
		objs = append(objs, tlsDelegation(o, secretNS, secretName))
	}
	root := httpProxySpec{IngressClassName: o.Class, VirtualHost: vh}
	if o.Namespace == apiServerNamespace {
		root.Routes = []route{apiServerRoute(o)}
	} else {
		root.Includes = []include{{Name: o.Name, Namespace: apiServerNamespace}}
		objs = append(objs, httpProxy(o.Name, apiServerNamespace,
			httpProxySpec{IngressClassName: o.Class, Routes: []route{apiServerRoute(o)}}))
	}
	return append(objs, httpProxy(o.Name, o.Namespace, root))
}

func httpProxy(name, namespace string, spec httpProxySpec) object {
	return object{APIVersion: "projectcontour.io/v1", Kind: "HTTPProxy", Metadata: newMeta(name, namespace), Spec: spec}
}

// apiServerRoute re-encrypts to kube-apiserver and verifies it. Websockets
// carry exec, attach and port-forward; with no timeouts, watches and
// `logs -f` last as long as the client wants (Envoy's default cuts a
// response after 15s).
func apiServerRoute(o Options) route {
	return route{
		EnableWebsockets: true,
		TimeoutPolicy:    timeoutPolicy{Response: "infinity", Idle: "infinity"},
		Services: []service{{
			Name: apiServerService,
			Port: apiServerPort,
			// "tls" is HTTP/1.1 over TLS: WebSocket upgrades need HTTP/1.1.
			Protocol:   "tls",
			Validation: upstreamValidation{CASecret: clusterCASecretName(o), SubjectName: apiServerServerName},
		}},
	}
}

func tlsDelegation(o Options, secretNS, secretName string) object {
	return object{
		APIVersion: "projectcontour.io/v1",
		Kind:       "TLSCertificateDelegation",
		Metadata:   newMeta(o.Name+"-tls", secretNS),
		Spec: delegationSpec{Delegations: []delegation{
			{SecretName: secretName, TargetNamespaces: []string{o.Namespace}},
		}},
	}
}
