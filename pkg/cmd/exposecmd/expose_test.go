package exposecmd

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// fakeAPI is a TLS API server serving fixed objects by path and recording
// requests.
type fakeAPI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	objects map[string]any
	reqs    []recorded
}

type recorded struct {
	Method, Path, Query, ContentType, Auth string
	Body                                   []byte
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{objects: map[string]any{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body})
		obj, ok := f.objects[r.URL.Path]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPatch:
			w.Write([]byte(`{}`))
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","message":"%s not found","reason":"NotFound","code":404}`, r.URL.Path)
		default:
			json.NewEncoder(w).Encode(obj)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) set(path string, obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[path] = obj
}

func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeAPI) kubeconfig(t *testing.T) string {
	return cmdtest.WriteKubeconfig(t, f.srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}))
}

// clusterWithCA serves kube-root-ca.crt and returns the CA.
func clusterWithCA(t *testing.T) (*fakeAPI, *testpki.Pair) {
	f := newFakeAPI(t)
	ca := cmdtest.NewPair(t, nil, "cluster CA")
	f.set("/api/v1/namespaces/default/configmaps/kube-root-ca.crt", map[string]any{"data": map[string]string{"ca.crt": string(ca.CertPEM)}})
	return f, ca
}

func tlsSecret(typ string, crt, key []byte) map[string]any {
	return map[string]any{"type": typ, "data": map[string][]byte{"tls.crt": crt, "tls.key": key}}
}

func TestExposeHAProxy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("its files are at this machine's temp paths, with a drive letter, which haproxy.cfg on the HAProxy host cannot name (TestHAProxyPathsAreTheHostsAsGiven covers Windows)")
	}
	f, clusterCA := clusterWithCA(t)
	enterprise := cmdtest.NewPair(t, nil, "enterprise")
	leaf := cmdtest.NewPair(t, enterprise, "kapi", cmdtest.TestHost)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "kapi.pem")
	os.WriteFile(certFile, append(append(append([]byte{}, leaf.CertPEM...), enterprise.CertPEM...), leaf.KeyPEM...), 0o600)
	caFile := filepath.Join(dir, "cluster-ca.crt")

	out, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdExpose, "--via", "haproxy", "--host", cmdtest.TestHost+".",
		"--bind", "127.0.0.1:8443", "--cert-file", certFile, "--ca-file", caFile)
	if err != nil {
		t.Fatalf("expose: %v\n%s", err, errOut)
	}
	upstream := strings.TrimPrefix(f.srv.URL, "https://")
	for _, want := range []string{"bind 127.0.0.1:8443 ssl crt " + certFile, "server kas1 " + upstream + " ssl verify required ca-file " + caFile} {
		if !strings.Contains(out, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "client certificates never reach the API server") || !strings.Contains(errOut, "Upstream: "+upstream) {
		t.Errorf("stderr lacks the warnings or upstream note:\n%s", errOut)
	}
	got, err := os.ReadFile(caFile)
	if err != nil || !bytes.Equal(got, clusterCA.CertPEM) {
		t.Fatalf("CA file = %q, %v; want the cluster CA", got, err)
	}
	if st, _ := os.Stat(caFile); st.Mode().Perm() != 0o644 {
		t.Errorf("CA file mode %v, want 0644", st.Mode().Perm())
	}
	if r := f.requests(); len(r) != 1 || r[0].Auth != "Bearer admin-token" {
		t.Errorf("requests = %+v; want one authenticated GET of the ConfigMap", r)
	}

	t.Run("cert file without key", func(t *testing.T) {
		os.WriteFile(certFile, leaf.CertPEM, 0o600)
		_, _, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdExpose, "--via", "haproxy", "--host", cmdtest.TestHost, "--cert-file", certFile, "--ca-file", caFile, "--upstream", "10.0.0.1:6443")
		if err == nil || !strings.Contains(err.Error(), "private key") {
			t.Fatalf("err = %v; want a complaint about the key", err)
		}
	})
	t.Run("apply is refused", func(t *testing.T) {
		_, _, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdExpose, "--via", "haproxy", "--host", cmdtest.TestHost, "--cert-file", certFile, "--ca-file", caFile, "--apply")
		if err == nil || !strings.Contains(err.Error(), "--apply applies only with --via contour, gateway or ingress-nginx") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestExposeRefusesBeforeTheNetwork(t *testing.T) {
	f, _ := clusterWithCA(t)
	cases := map[string][]string{
		"IP host":           {"--via", "contour", "--host", "10.0.0.1", "--tls-secret", "x"},
		"wildcard":          {"--via", "contour", "--host", "*.example.com", "--tls-secret", "x"},
		"underscore":        {"--via", "contour", "--host", "k_api.example.com", "--tls-secret", "x"},
		"empty label":       {"--via", "contour", "--host", "kapi..example.com", "--tls-secret", "x"},
		"no host":           {"--via", "contour", "--tls-secret", "x"},
		"unknown via":       {"--via", "nginx", "--host", cmdtest.TestHost, "--tls-secret", "x"},
		"haproxy flag":      {"--via", "contour", "--host", cmdtest.TestHost, "--tls-secret", "x", "--bind", "0.0.0.0:443"},
		"dry-run no apply":  {"--via", "contour", "--host", cmdtest.TestHost, "--tls-secret", "x", "--dry-run=server"},
		"haproxy no ca":     {"--via", "haproxy", "--host", cmdtest.TestHost, "--cert-file", "/x.pem"},
		"ingress elsewhere": {"--via", "ingress-nginx", "--host", cmdtest.TestHost, "--tls-secret", "x", "-n", "edge"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, _, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdExpose, args...)
			if err == nil || out != "" {
				t.Fatalf("expose %v: err = %v, stdout %q; want an error and no output", args, err, out)
			}
		})
	}
	if r := f.requests(); len(r) != 0 {
		t.Fatalf("invalid flags reached the cluster: %+v", r)
	}
}

func TestExposeChecksTheTLSSecret(t *testing.T) {
	f, _ := clusterWithCA(t)
	ca := cmdtest.NewPair(t, nil, "enterprise")
	good := cmdtest.NewPair(t, ca, "kapi", cmdtest.TestHost)
	other := cmdtest.NewPair(t, ca, "other", "other.example.com")
	chain := func(p *testpki.Pair) []byte { return append(append([]byte{}, p.CertPEM...), ca.CertPEM...) }
	f.set("/api/v1/namespaces/default/secrets/good", tlsSecret("kubernetes.io/tls", chain(good), good.KeyPEM))
	f.set("/api/v1/namespaces/certs/secrets/good", tlsSecret("kubernetes.io/tls", chain(good), good.KeyPEM))
	f.set("/api/v1/namespaces/default/secrets/opaque", tlsSecret("Opaque", chain(good), good.KeyPEM))
	f.set("/api/v1/namespaces/default/secrets/garbage", tlsSecret("kubernetes.io/tls", []byte("not a certificate"), good.KeyPEM))
	f.set("/api/v1/namespaces/default/secrets/mismatch", tlsSecret("kubernetes.io/tls", chain(good), other.KeyPEM))
	f.set("/api/v1/namespaces/default/secrets/other", tlsSecret("kubernetes.io/tls", chain(other), other.KeyPEM))
	kc := f.kubeconfig(t)

	for _, c := range []struct{ secret, wantErr string }{
		{"missing", "TLS secret default/missing does not exist"},
		{"opaque", `is of type "Opaque", not kubernetes.io/tls`},
		{"garbage", "does not hold a usable certificate and key"},
		{"mismatch", "does not hold a usable certificate and key"},
	} {
		t.Run(c.secret, func(t *testing.T) {
			out, _, err := cmdtest.Run(t, kc, NewCmdExpose, "--via", "contour", "--host", cmdtest.TestHost, "--tls-secret", c.secret)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || out != "" {
				t.Fatalf("err = %v (stdout %q); want %q", err, out, c.wantErr)
			}
			if !strings.Contains(err.Error(), "kubectl create secret tls") {
				t.Errorf("error does not say how to fix it: %v", err)
			}
		})
	}
	t.Run("wrong name warns", func(t *testing.T) {
		out, errOut, err := cmdtest.Run(t, kc, NewCmdExpose, "--via", "contour", "--host", cmdtest.TestHost, "--tls-secret", "other")
		if err != nil || !strings.Contains(out, "kind: HTTPProxy") {
			t.Fatalf("err = %v, out:\n%s", err, out)
		}
		if !strings.Contains(errOut, "is not valid for "+cmdtest.TestHost) {
			t.Fatalf("no name warning:\n%s", errOut)
		}
	})
	t.Run("good, in another namespace", func(t *testing.T) {
		out, errOut, err := cmdtest.Run(t, kc, NewCmdExpose, "--via", "gateway", "--host", cmdtest.TestHost, "--tls-secret", "certs/good")
		if err != nil || !strings.Contains(out, "kind: Gateway") || strings.Contains(errOut, "not valid for") {
			t.Fatalf("err = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		}
	})
}

func TestExposeClusterProblems(t *testing.T) {
	t.Run("no kube-root-ca.crt", func(t *testing.T) {
		f := newFakeAPI(t)
		_, _, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdExpose, "--via", "contour", "--host", cmdtest.TestHost, "--tls-secret", "x")
		if err == nil || !strings.Contains(err.Error(), "the cluster has no ConfigMap kube-root-ca.crt in namespace default; is kube-controller-manager running?") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		kc := cmdtest.WriteKubeconfig(t, "https://"+addr, cmdtest.NewPair(t, nil, "ca").CertPEM)
		_, _, err := cmdtest.Run(t, kc, NewCmdExpose, "--via", "contour", "--host", cmdtest.TestHost, "--tls-secret", "x")
		if err == nil || !strings.Contains(err.Error(), "cannot reach the cluster") || !strings.Contains(err.Error(), "--cluster-ca-file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("offline with --cluster-ca-file", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.crt")
		os.WriteFile(caFile, cmdtest.NewPair(t, nil, "ca").CertPEM, 0o644)
		out, errOut, err := cmdtest.Run(t, filepath.Join(t.TempDir(), "missing"), NewCmdExpose, "--via", "ingress-nginx", "--host", cmdtest.TestHost, "--tls-secret", "x", "--cluster-ca-file", caFile)
		if err != nil || !strings.Contains(out, "kind: Ingress") || !strings.Contains(errOut, "Not checking TLS secret default/x") {
			t.Fatalf("err = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		}
		// ingress-nginx is retired: said on stderr, with the way forward.
		if !strings.Contains(errOut, "ingress-nginx was retired in March 2026") || !strings.Contains(errOut, "--via gateway") {
			t.Errorf("no retirement notice on stderr:\n%s", errOut)
		}
	})
}

func TestExposeApply(t *testing.T) {
	f, _ := clusterWithCA(t)
	ca := cmdtest.NewPair(t, nil, "enterprise")
	good := cmdtest.NewPair(t, ca, "kapi", cmdtest.TestHost)
	f.set("/api/v1/namespaces/certs/secrets/kapi-tls", tlsSecret("kubernetes.io/tls", append(good.CertPEM, ca.CertPEM...), good.KeyPEM))
	out, errOut, err := cmdtest.Run(t, f.kubeconfig(t), NewCmdExpose, "--via", "contour", "--host", cmdtest.TestHost, "--namespace", "edge",
		"--tls-secret", "certs/kapi-tls", "--apply", "--dry-run=server")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, errOut)
	}
	want := "secret/securekapi-cluster-ca serverside-applied (server dry run)\n" +
		"tlscertificatedelegation.projectcontour.io/securekapi-tls serverside-applied (server dry run)\n" +
		"httpproxy.projectcontour.io/securekapi serverside-applied (server dry run)\n" +
		"httpproxy.projectcontour.io/securekapi serverside-applied (server dry run)\n"
	if out != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", out, want)
	}
	var patches []recorded
	for _, r := range f.requests() {
		if r.Method == http.MethodPatch {
			patches = append(patches, r)
		}
	}
	wantPaths := []string{
		"/api/v1/namespaces/default/secrets/securekapi-cluster-ca",
		"/apis/projectcontour.io/v1/namespaces/certs/tlscertificatedelegations/securekapi-tls",
		"/apis/projectcontour.io/v1/namespaces/default/httpproxies/securekapi",
		"/apis/projectcontour.io/v1/namespaces/edge/httpproxies/securekapi",
	}
	if len(patches) != len(wantPaths) {
		t.Fatalf("patches = %+v", patches)
	}
	for i, p := range patches {
		if p.Path != wantPaths[i] || p.ContentType != "application/apply-patch+yaml" ||
			p.Query != "dryRun=All&fieldManager=securekapi&force=false&timeout=15s" || !bytes.Contains(p.Body, []byte("kind: ")) {
			t.Errorf("patch %d = %s %s?%s (%s)", i, p.Method, p.Path, p.Query, p.ContentType)
		}
		if bytes.HasPrefix(p.Body, []byte("#")) {
			t.Errorf("patch %d carries the header comment", i)
		}
	}
}
