package expose

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/internal/testpki"
)

func k8sOptions(t *testing.T, via Via) Options {
	return Options{Host: "kapi.example.com", TLSSecret: "kapi-tls", Via: via, ClusterCAPEM: testpki.Root(t, "test CA").CertPEM}
}

// docs parses the generated stream the way kubectl would and indexes the
// objects by "Kind namespace/name".
func docs(t *testing.T, o Options) map[string]map[string]any {
	t.Helper()
	generated, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	out := generated.Text
	objs := map[string]map[string]any{}
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, doc)
		}
		if m == nil {
			continue // the header comment
		}
		key := str(m, "kind") + " " + str(m, "metadata", "namespace") + "/" + str(m, "metadata", "name")
		objs[key] = m
	}
	return objs
}

// get walks maps by key and lists by index ("0").
func get(v any, path ...string) any {
	for _, p := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[p]
		case []any:
			i := int(p[0] - '0')
			if len(p) != 1 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func mustGet(t *testing.T, objs map[string]map[string]any, key string) map[string]any {
	t.Helper()
	obj, ok := objs[key]
	if !ok {
		keys := make([]string, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
		t.Fatalf("no %s in output; have %v", key, keys)
	}
	return obj
}

func wantField(t *testing.T, obj map[string]any, want any, path ...string) {
	t.Helper()
	if got := get(obj, path...); !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s: %s = %#v, want %#v", obj["kind"], str(obj, "metadata", "name"), strings.Join(path, "."), got, want)
	}
}

func TestContourInDefault(t *testing.T) {
	o := k8sOptions(t, Contour)
	objs := docs(t, o)
	if len(objs) != 2 {
		t.Errorf("want the HTTPProxy and the CA Secret, got %d objects", len(objs))
	}
	secret := mustGet(t, objs, "Secret default/securekapi-cluster-ca")
	wantField(t, secret, string(o.ClusterCAPEM), "stringData", "ca.crt")

	proxy := mustGet(t, objs, "HTTPProxy default/securekapi")
	wantField(t, proxy, "projectcontour.io/v1", "apiVersion")
	wantField(t, proxy, "kapi.example.com", "spec", "virtualhost", "fqdn")
	wantField(t, proxy, "kapi-tls", "spec", "virtualhost", "tls", "secretName")
	r := get(proxy, "spec", "routes", "0")
	wantField(t, proxy, true, "spec", "routes", "0", "enableWebsockets")
	wantField(t, proxy, "infinity", "spec", "routes", "0", "timeoutPolicy", "response")
	wantField(t, proxy, "infinity", "spec", "routes", "0", "timeoutPolicy", "idle")
	svc := get(r, "services", "0")
	for path, want := range map[string]any{
		"name": "kubernetes", "port": float64(443), "protocol": "tls",
		"validation.caSecret": "securekapi-cluster-ca", "validation.subjectName": "kubernetes.default.svc",
	} {
		if got := get(svc, strings.Split(path, ".")...); got != want {
			t.Errorf("route service %s = %#v, want %#v", path, got, want)
		}
	}
}

func TestContourRootElsewhereIncludesDefault(t *testing.T) {
	o := k8sOptions(t, Contour)
	o.Namespace, o.TLSSecret, o.Class = "edge", "certs/kapi-tls", "internet"
	objs := docs(t, o)
	root := mustGet(t, objs, "HTTPProxy edge/securekapi")
	wantField(t, root, "certs/kapi-tls", "spec", "virtualhost", "tls", "secretName")
	wantField(t, root, "internet", "spec", "ingressClassName")
	wantField(t, root, []any{map[string]any{"name": "securekapi", "namespace": "default"}}, "spec", "includes")
	wantField(t, root, nil, "spec", "routes")

	child := mustGet(t, objs, "HTTPProxy default/securekapi")
	wantField(t, child, nil, "spec", "virtualhost")
	wantField(t, child, "securekapi-cluster-ca", "spec", "routes", "0", "services", "0", "validation", "caSecret")
	mustGet(t, objs, "Secret default/securekapi-cluster-ca")

	deleg := mustGet(t, objs, "TLSCertificateDelegation certs/securekapi-tls")
	wantField(t, deleg, []any{map[string]any{"secretName": "kapi-tls", "targetNamespaces": []any{"edge"}}}, "spec", "delegations")
}

func TestGateway(t *testing.T) {
	o := k8sOptions(t, Gateway)
	o.ClusterCAPEM = nil // the gateway reads the kube-root-ca.crt ConfigMap
	objs := docs(t, o)
	if len(objs) != 3 {
		t.Errorf("want Gateway, HTTPRoute, BackendTLSPolicy; got %d objects", len(objs))
	}
	gw := mustGet(t, objs, "Gateway default/securekapi")
	wantField(t, gw, "example", "spec", "gatewayClassName")
	l := get(gw, "spec", "listeners", "0")
	for path, want := range map[string]any{
		"hostname": "kapi.example.com", "protocol": "HTTPS", "port": float64(443), "tls.mode": "Terminate",
		"tls.certificateRefs.0.name": "kapi-tls", "tls.certificateRefs.0.kind": "Secret",
		"allowedRoutes.namespaces.from": "Same",
	} {
		if got := get(l, strings.Split(path, ".")...); got != want {
			t.Errorf("listener %s = %#v, want %#v", path, got, want)
		}
	}
	route := mustGet(t, objs, "HTTPRoute default/securekapi")
	wantField(t, route, "kubernetes", "spec", "rules", "0", "backendRefs", "0", "name")
	wantField(t, route, float64(443), "spec", "rules", "0", "backendRefs", "0", "port")
	wantField(t, route, "https", "spec", "parentRefs", "0", "sectionName")

	pol := mustGet(t, objs, "BackendTLSPolicy default/securekapi")
	wantField(t, pol, "gateway.networking.k8s.io/v1", "apiVersion")
	wantField(t, pol, "kubernetes.default.svc", "spec", "validation", "hostname")
	wantField(t, pol, []any{map[string]any{"group": "", "kind": "ConfigMap", "name": "kube-root-ca.crt"}},
		"spec", "validation", "caCertificateRefs")
	wantField(t, pol, []any{map[string]any{"group": "", "kind": "Service", "name": "kubernetes"}}, "spec", "targetRefs")
}

func TestGatewayElsewhere(t *testing.T) {
	o := k8sOptions(t, Gateway)
	o.Namespace, o.TLSSecret, o.Class = "edge", "certs/kapi-tls", "eg"
	objs := docs(t, o)
	gw := mustGet(t, objs, "Gateway edge/securekapi")
	wantField(t, gw, "eg", "spec", "gatewayClassName")
	wantField(t, gw, "certs", "spec", "listeners", "0", "tls", "certificateRefs", "0", "namespace")
	wantField(t, gw, "Selector", "spec", "listeners", "0", "allowedRoutes", "namespaces", "from")
	wantField(t, gw, "default", "spec", "listeners", "0", "allowedRoutes", "namespaces", "selector", "matchLabels", "kubernetes.io/metadata.name")
	wantField(t, mustGet(t, objs, "HTTPRoute default/securekapi"), "edge", "spec", "parentRefs", "0", "namespace")
	mustGet(t, objs, "BackendTLSPolicy default/securekapi")
	grant := mustGet(t, objs, "ReferenceGrant certs/securekapi-tls")
	wantField(t, grant, "edge", "spec", "from", "0", "namespace")
	wantField(t, grant, "kapi-tls", "spec", "to", "0", "name")
}

func TestIngressNginx(t *testing.T) {
	o := k8sOptions(t, IngressNginx)
	objs := docs(t, o)
	ing := mustGet(t, objs, "Ingress default/securekapi")
	const p = "nginx.ingress.kubernetes.io/"
	for k, want := range map[string]string{
		"backend-protocol": "HTTPS", "proxy-ssl-verify": "on", "proxy-ssl-secret": "default/securekapi-cluster-ca",
		"proxy-ssl-name": "kubernetes.default.svc", "proxy-ssl-server-name": "on",
		"proxy-read-timeout": "3600", "proxy-send-timeout": "3600",
	} {
		wantField(t, ing, want, "metadata", "annotations", p+k)
	}
	wantField(t, ing, "nginx", "spec", "ingressClassName")
	wantField(t, ing, "kapi-tls", "spec", "tls", "0", "secretName")
	wantField(t, ing, "kubernetes", "spec", "rules", "0", "http", "paths", "0", "backend", "service", "name")
	secret := mustGet(t, objs, "Secret default/securekapi-cluster-ca")
	wantField(t, secret, string(o.ClusterCAPEM), "stringData", "ca.crt")
}

func haproxyOptions(t *testing.T) Options {
	return Options{Host: "kapi.example.com", Via: HAProxy, ClusterCAPEM: testpki.Root(t, "test CA").CertPEM,
		Bind: "127.0.0.1:18443", CertFile: "/etc/haproxy/kapi.pem", CAFile: "/etc/haproxy/cluster-ca.crt",
		Upstreams: []string{"10.0.0.10:6443", "[fd00::11]:6443"}}
}

func TestHAProxyConfig(t *testing.T) {
	out, err := Generate(haproxyOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(out.Text)
	for _, want := range []string{
		"\nglobal\n  log stderr ",
		"  bind 127.0.0.1:18443 ssl crt /etc/haproxy/kapi.pem alpn http/1.1\n",
		"  timeout tunnel 1h\n",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	var servers []string
	for _, line := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "server ") {
			servers = append(servers, line)
		}
	}
	if len(servers) != 2 || !strings.Contains(servers[0], " 10.0.0.10:6443 ") || !strings.Contains(servers[1], " fd00::11:6443 ") {
		t.Fatalf("want one server line per upstream, got %q", servers)
	}
	for _, s := range servers {
		for _, want := range []string{" ssl ", " verify required ", " ca-file /etc/haproxy/cluster-ca.crt ",
			" verifyhost kubernetes.default.svc ", " sni str(kubernetes.default.svc) "} {
			if !strings.Contains(s, want) {
				t.Errorf("server line lacks %q: %s", want, s)
			}
		}
		if strings.Contains(s, " crt ") {
			t.Errorf("server line gives the proxy a client certificate: %s", s)
		}
	}
}

func TestWarningsNameOIDCAndNoProxyCertificate(t *testing.T) {
	for _, via := range Vias() {
		all := strings.Join(Warnings(via), "\n")
		if !strings.Contains(all, "OIDC") || !strings.Contains(all, "client certificate of its own") {
			t.Errorf("Warnings(%s) miss the client-certificate and OIDC points: %q", via, all)
		}
	}
}

// TestGenerateObjectsAreTextsDocuments: Objects are Text's objects, one
// document each and in order, so an apply sends exactly what a platform
// owner reviewed; haproxy has none.
func TestGenerateObjectsAreTextsDocuments(t *testing.T) {
	for _, via := range []Via{Contour, Gateway, IngressNginx} {
		out, err := Generate(k8sOptions(t, via))
		if err != nil {
			t.Fatalf("%s: %v", via, err)
		}
		if len(out.Objects) == 0 {
			t.Fatalf("%s: no objects", via)
		}
		text := string(out.Text)
		text = text[strings.Index(text, "---\n"):] // after the header comment
		var joined strings.Builder
		for _, doc := range out.Objects {
			var m map[string]any
			if err := yaml.Unmarshal(doc, &m); err != nil || str(m, "kind") == "" || str(m, "metadata", "namespace") == "" {
				t.Errorf("%s: object %q is not one namespaced object (%v)", via, doc, err)
			}
			joined.WriteString("---\n")
			joined.Write(doc)
		}
		if joined.String() != text {
			t.Errorf("%s: the objects are not Text's documents:\n%s\nText:\n%s", via, joined.String(), text)
		}
	}
	out, err := Generate(haproxyOptions(t))
	if err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	if out.Objects != nil {
		t.Errorf("haproxy: objects %q; want none", out.Objects)
	}
}
