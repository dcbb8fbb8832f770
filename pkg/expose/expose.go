// Package expose generates what a platform owner deploys in front of
// kube-apiserver to give third parties a trusted secondary endpoint: a
// proxy that presents a certificate they already trust, then re-encrypts to
// the API server and verifies it against the cluster CA.
//
// It only writes text (Kubernetes YAML or an haproxy.cfg); it never talks
// to a cluster. The caller reads the cluster CA and applies the output.
package expose

import (
	"fmt"
	"strings"
)

// Via names the proxy that serves the endpoint.
type Via string

// The proxies expose can configure.
const (
	Contour      Via = "contour"       // Contour HTTPProxy (Envoy)
	Gateway      Via = "gateway"       // Gateway API with BackendTLSPolicy
	IngressNginx Via = "ingress-nginx" // ingress-nginx Ingress annotations
	HAProxy      Via = "haproxy"       // a standalone haproxy.cfg
)

// Vias lists every supported Via, for flag help and completion.
func Vias() []Via { return []Via{Contour, Gateway, IngressNginx, HAProxy} }

// Names every Kubernetes via needs to reach kube-apiserver from inside the
// cluster: the Service kube-apiserver maintains, and the name on its
// serving certificate that the proxy must verify.
const (
	apiServerNamespace  = "default"
	apiServerService    = "kubernetes"
	apiServerPort       = 443
	apiServerServerName = "kubernetes.default.svc"
)

// Options describe one secondary endpoint.
type Options struct {
	// Host is the DNS name the endpoint serves, e.g. kapi.example.com.
	Host string
	// TLSSecret holds the endpoint's certificate, as "name" (in Namespace)
	// or "namespace/name".
	TLSSecret string
	// Namespace is where the generated objects go; default "default". Some
	// must sit next to Service "kubernetes" in "default" whatever it says;
	// the generated YAML shows which.
	Namespace string
	// Name is the base name of the generated objects; default "securekapi".
	// Set it to expose one cluster under several hosts.
	Name string
	// Class is the gatewayClassName (gateway, default "example") or the
	// ingressClassName (ingress-nginx, default "nginx"; contour, default
	// none: every Contour serves it).
	Class string
	Via   Via
	// ClusterCAPEM is the cluster CA bundle (kube-root-ca.crt's ca.crt).
	// Required for contour, ingress-nginx and haproxy; gateway reads the
	// kube-root-ca.crt ConfigMap in the cluster instead.
	ClusterCAPEM []byte

	// HAProxy only.
	Bind      string   // listen address, e.g. "0.0.0.0:443"
	CertFile  string   // PEM with the endpoint's chain and key, for `bind ... ssl crt`
	CAFile    string   // where the caller writes ClusterCAPEM, for `ca-file`
	Upstreams []string // kube-apiserver host:port list
}

// withDefaults fills in the optional fields.
func withDefaults(o Options) Options {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Name == "" {
		o.Name = "securekapi"
	}
	if o.Class == "" {
		switch o.Via {
		case Gateway:
			o.Class = "example"
		case IngressNginx:
			o.Class = "nginx"
		}
	}
	return o
}

// Output is what Generate makes.
type Output struct {
	// Text is the file a platform owner reviews and deploys: multi-document
	// YAML with a header comment for the Kubernetes vias, haproxy.cfg for
	// haproxy.
	Text []byte
	// Objects are the YAML documents of Text's objects, one each, in apply
	// order, so nothing has to split Text again. Nil for haproxy.
	Objects [][]byte
}

// Generate returns what to deploy. It validates first.
func Generate(o Options) (*Output, error) {
	if err := Validate(o); err != nil {
		return nil, err
	}
	o = withDefaults(o)
	switch o.Via {
	case Contour:
		return renderYAML(o, contourObjects(o))
	case Gateway:
		return renderYAML(o, gatewayObjects(o))
	case IngressNginx:
		return renderYAML(o, ingressNginxObjects(o))
	default: // Validate accepted it, so it is HAProxy.
		return &Output{Text: haproxyConfig(o)}, nil
	}
}

// Warnings are the few things a platform owner must know before deploying
// an endpoint of this kind.
func Warnings(via Via) []string {
	w := []string{
		"The proxy ends the client's TLS session, so client certificates never reach the API server: " +
			"configure OIDC (or another token authenticator) on the API server and give third parties tokens.",
		"Never give the proxy a client certificate of its own for the upstream hop: every request " +
			"would then run with the proxy's identity, for anyone who can reach the endpoint.",
	}
	switch via {
	case Contour:
		w = append(w, websocketOnly("With Envoy"))
	case Gateway:
		w = append(w, websocketOnly("With most Gateway implementations"),
			"Check that your Gateway implementation supports BackendTLSPolicy v1 and reports it Accepted: "+
				"without it the gateway cannot reach the API server safely.")
	case IngressNginx:
		w = append(w, "ingress-nginx was retired in March 2026: no more releases or security fixes. "+
			"Prefer --via gateway (Gateway API) for a new endpoint.",
			"ingress-nginx closes a connection idle for an hour: watches reconnect by themselves, "+
				"a quiet `kubectl logs -f` or exec session ends.")
	}
	return w
}

// websocketOnly warns that the older SPDY upgrade does not pass: kubectl
// and kube-apiserver speak WebSocket for every streaming verb from 1.31.
func websocketOnly(who string) string {
	return who + ", only WebSocket upgrades pass, so exec, attach, cp and port-forward " +
		"work through this endpoint only with kubectl and kube-apiserver 1.31 or newer."
}

// header is the comment that opens every output, so a file found later
// still says what it is and what to watch out for.
func header(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Trusted secondary endpoint %s for kube-apiserver, via %s.\n", o.Host, o.Via)
	b.WriteString("# Generated by securekapi; review before deploying.\n")
	for _, w := range Warnings(o.Via) {
		fmt.Fprintf(&b, "# - %s\n", w)
	}
	return b.String()
}
