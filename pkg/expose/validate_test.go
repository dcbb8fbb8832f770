package expose

import (
	"strings"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
)

func TestValidateRejectsWithAHint(t *testing.T) {
	ca := testpki.Root(t, "test CA")
	k8s := func(via Via, change func(*Options)) Options {
		o := Options{Host: "kapi.example.com", TLSSecret: "kapi-tls", Via: via, ClusterCAPEM: ca.CertPEM}
		change(&o)
		return o
	}
	hap := func(change func(*Options)) Options {
		o := haproxyOptions(t)
		change(&o)
		return o
	}
	tests := []struct {
		name string
		o    Options
		want string // in the error
	}{
		{"IP host", k8s(Contour, func(o *Options) { o.Host = "10.0.0.1" }), "is an IP address"},
		{"IPv6 host", k8s(Contour, func(o *Options) { o.Host = "[fd00::1]" }), "is an IP address"},
		{"URL host", k8s(Gateway, func(o *Options) { o.Host = "https://x" }), "looks like a URL"},
		{"host with port", k8s(Gateway, func(o *Options) { o.Host = "kapi.example.com:443" }), "has a port"},
		{"wildcard host", k8s(IngressNginx, func(o *Options) { o.Host = "*.x.com" }), "wildcard"},
		{"empty label", k8s(Contour, func(o *Options) { o.Host = "a..b" }), "empty label"},
		{"trailing dot", k8s(Contour, func(o *Options) { o.Host = "kapi.example.com." }), "empty label"},
		{"upper case", k8s(Contour, func(o *Options) { o.Host = "Kapi.example.com" }), `pass "kapi.example.com"`},
		{"underscore", k8s(Contour, func(o *Options) { o.Host = "k_api.example.com" }), "may only hold"},
		{"numeric top label", k8s(Contour, func(o *Options) { o.Host = "10.0.0" }), "numeric label"},
		{"no host", k8s(HAProxy, func(o *Options) { o.Host = "" }), "no host"},
		{"no via", k8s("", func(*Options) {}), "no via"},
		{"unknown via", k8s("traefik", func(*Options) {}), `unknown via "traefik"`},
		{"contour without secret", k8s(Contour, func(o *Options) { o.TLSSecret = "" }), "no TLS secret"},
		{"gateway without secret", k8s(Gateway, func(o *Options) { o.TLSSecret = "" }), "no TLS secret"},
		{"nginx without secret", k8s(IngressNginx, func(o *Options) { o.TLSSecret = "" }), "no TLS secret"},
		{"secret with two slashes", k8s(Contour, func(o *Options) { o.TLSSecret = "a/b/c" }), "TLS secret"},
		{"contour without CA", k8s(Contour, func(o *Options) { o.ClusterCAPEM = nil }), "no cluster CA"},
		{"nginx without CA", k8s(IngressNginx, func(o *Options) { o.ClusterCAPEM = nil }), "no cluster CA"},
		{"haproxy without CA", hap(func(o *Options) { o.ClusterCAPEM = nil }), "no cluster CA"},
		{"CA with a key", k8s(Contour, func(o *Options) { o.ClusterCAPEM = append(append([]byte{}, ca.CertPEM...), ca.KeyPEM...) }), "EC PRIVATE KEY"},
		{"CA not PEM", k8s(Contour, func(o *Options) { o.ClusterCAPEM = []byte("hello") }), "not PEM"},
		{"nginx elsewhere", k8s(IngressNginx, func(o *Options) { o.Namespace = "edge" }), "must be in namespace"},
		{"nginx secret elsewhere", k8s(IngressNginx, func(o *Options) { o.TLSSecret = "certs/kapi" }), "must be in namespace"},
		{"bad namespace", k8s(Gateway, func(o *Options) { o.Namespace = "Edge" }), "namespace"},
		{"long name", k8s(Gateway, func(o *Options) { o.Name = strings.Repeat("a", 41) }), "at most 40"},
		{"haproxy no bind", hap(func(o *Options) { o.Bind = "" }), "bind"},
		{"haproxy bind to name", hap(func(o *Options) { o.Bind = "localhost:443" }), "IP address"},
		{"haproxy relative cert", hap(func(o *Options) { o.CertFile = "kapi.pem" }), "absolute path"},
		{"haproxy CA path with space", hap(func(o *Options) { o.CAFile = "/my dir/ca.crt" }), "absolute path"},
		// HAProxy's host is a Unix one, whatever OS runs expose.
		{"haproxy Windows cert path", hap(func(o *Options) { o.CertFile = `C:\haproxy\kapi.pem` }), "absolute path on the HAProxy host"},
		{"haproxy drive-letter CA path", hap(func(o *Options) { o.CAFile = "C:/haproxy/ca.crt" }), "absolute path on the HAProxy host"},
		{"haproxy no upstreams", hap(func(o *Options) { o.Upstreams = nil }), "no upstreams"},
		{"haproxy upstream without port", hap(func(o *Options) { o.Upstreams = []string{"10.0.0.1"} }), "host:port"},
		{"haproxy upstream bad port", hap(func(o *Options) { o.Upstreams = []string{"10.0.0.1:0"} }), "1-65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.o)
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.o)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if _, gerr := Generate(tt.o); gerr == nil {
				t.Errorf("Generate accepted what Validate rejects")
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	ca := testpki.Root(t, "test CA").CertPEM
	bundle := append(append([]byte{}, ca...), testpki.Root(t, "test CA").CertPEM...)
	for _, o := range []Options{
		{Host: "kapi.example.com", TLSSecret: "kapi-tls", Via: Contour, ClusterCAPEM: bundle},
		{Host: "localhost", TLSSecret: "edge/kapi-tls", Namespace: "edge", Via: Contour, ClusterCAPEM: ca},
		{Host: "k8s-1.example.com", TLSSecret: "certs/kapi.tls", Via: Gateway}, // no CA: kube-root-ca.crt
		{Host: "kapi.example.com", TLSSecret: "default/kapi-tls", Via: IngressNginx, ClusterCAPEM: ca},
		{Host: "kapi.example.com", Via: HAProxy, ClusterCAPEM: ca, Bind: ":443", CertFile: "/a.pem",
			CAFile: "/ca.crt", Upstreams: []string{"kas.internal:6443"}},
	} {
		if err := Validate(o); err != nil {
			t.Errorf("Validate(%s %s): %v", o.Via, o.Host, err)
		}
	}
}
