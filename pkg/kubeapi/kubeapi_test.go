package kubeapi

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
)

// TestRESTAgainstAnAPIServer: reads decode, an apply is the request
// kubectl apply --server-side sends, and the API server's Status errors
// come back as client-go's, message included; an unreachable server is
// not taken for an API answer.
func TestRESTAgainstAnAPIServer(t *testing.T) {
	var patch struct{ method, path, query, contentType, body string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/namespaces/default/configmaps/kube-root-ca.crt":
			io.WriteString(w, `{"apiVersion":"v1","kind":"ConfigMap","data":{"ca.crt":"PEM"}}`)
		case r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/namespaces/edge/"):
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"edge\" not found","reason":"NotFound","code":404}`)
		case r.Method == http.MethodPatch:
			body, _ := io.ReadAll(r.Body)
			patch.method, patch.path, patch.query, patch.contentType, patch.body = r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(body)
			io.WriteString(w, `{}`)
		default:
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets is forbidden","reason":"Forbidden","code":403}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := NewREST(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	data, err := c.ConfigMapData(ctx, "default", "kube-root-ca.crt")
	if err != nil || data["ca.crt"] != "PEM" {
		t.Fatalf("ConfigMapData = %v, %v", data, err)
	}
	if _, err := c.Secret(ctx, "certs", "tls"); !apierrors.IsForbidden(err) || !IsAPIError(err) || !strings.Contains(err.Error(), "secrets is forbidden") {
		t.Errorf("Secret on a forbidden answer: %v, want IsForbidden with the server's message", err)
	}

	doc := []byte("apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata:\n  name: securekapi\n  namespace: default\n")
	applied, err := c.Apply(ctx, doc, ApplyOptions{FieldManager: "securekapi", Force: true, DryRun: true})
	if err != nil || applied.Resource != "httpproxy.projectcontour.io" || applied.Name != "securekapi" {
		t.Fatalf("Apply = %+v, %v", applied, err)
	}
	if patch.path != "/apis/projectcontour.io/v1/namespaces/default/httpproxies/securekapi" || patch.contentType != "application/apply-patch+yaml" ||
		patch.query != "dryRun=All&fieldManager=securekapi&force=true" || patch.body != string(doc) {
		t.Errorf("the apply request: %+v", patch)
	}

	_, err = c.Apply(ctx, []byte(strings.ReplaceAll(string(doc), "default", "edge")), ApplyOptions{FieldManager: "securekapi"})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "edge" not found`) {
		t.Errorf("Apply into a missing namespace: %v, want NotFound with the server's message", err)
	}
	patch.path = ""
	for _, meta := range []string{"{name: tls}", "{name: tls, namespace: \"\"}", "{namespace: certs}"} {
		_, err := c.Apply(ctx, []byte("apiVersion: v1\nkind: Secret\nmetadata: "+meta+"\n"), ApplyOptions{FieldManager: "securekapi"})
		if err == nil || !strings.Contains(err.Error(), "needs metadata.name and metadata.namespace") {
			t.Errorf("Apply of a Secret with metadata %s: %v, want a refusal naming what is missing", meta, err)
		}
	}
	if patch.path != "" {
		t.Errorf("a Secret without namespace or name was sent to %s", patch.path)
	}
	if _, err := c.Apply(ctx, []byte("apiVersion: v9\nkind: Widget\nmetadata: {name: w}\n"), ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "does not know its resource path") {
		t.Errorf("Apply of an unknown kind: %v", err)
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	gone, _ := NewREST(&rest.Config{Host: "http://" + addr})
	if _, err := gone.ConfigMapData(ctx, "default", "x"); err == nil || IsAPIError(err) {
		t.Errorf("an unreachable server: %v, want a non-API error", err)
	}
}
