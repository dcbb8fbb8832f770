package cmd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// pair is a test certificate and key in PEM.
type pair struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

// newPair signs a certificate for names with parent, or a self-signed CA
// when parent is nil.
func newPair(t *testing.T, parent *pair, cn string, names ...string) *pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	signer, signerKey := tmpl, key
	if parent == nil || len(names) == 0 {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if len(names) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, n)
			}
		}
	}
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return &pair{cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}
}

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

// kubeconfig writes a kubeconfig for server (trusting caPEM) with a token.
func writeKubeconfig(t *testing.T, server string, caPEM []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: u
  user:
    token: admin-token
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`, server, base64.StdEncoding.EncodeToString(caPEM))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (f *fakeAPI) kubeconfig(t *testing.T) string {
	return writeKubeconfig(t, f.srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}))
}

// run executes a command with isolated streams and environment.
func run(t *testing.T, kubeconfig string, newCmd func(*GlobalOptions) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &GlobalOptions{
		IOStreams:  genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Kubeconfig: kubeconfig,
		Getenv:     func(k string) string { return map[string]string{"HOME": t.TempDir()}[k] },
		Now:        time.Now,
	}
	c := newCmd(g)
	c.SetArgs(args)
	c.SetOut(&errOut)
	c.SetErr(&errOut)
	c.SilenceUsage, c.SilenceErrors = true, true
	err := c.Execute()
	return out.String(), errOut.String(), err
}

const testHost = "kapi.example.com"

// clusterWithCA serves kube-root-ca.crt and returns the CA.
func clusterWithCA(t *testing.T) (*fakeAPI, *pair) {
	f := newFakeAPI(t)
	ca := newPair(t, nil, "cluster CA")
	f.set("/api/v1/namespaces/default/configmaps/kube-root-ca.crt", map[string]any{"data": map[string]string{"ca.crt": string(ca.certPEM)}})
	return f, ca
}

func tlsSecret(typ string, crt, key []byte) map[string]any {
	return map[string]any{"type": typ, "data": map[string][]byte{"tls.crt": crt, "tls.key": key}}
}

func TestExposeHAProxy(t *testing.T) {
	f, clusterCA := clusterWithCA(t)
	enterprise := newPair(t, nil, "enterprise")
	leaf := newPair(t, enterprise, "kapi", testHost)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "kapi.pem")
	os.WriteFile(certFile, append(append(append([]byte{}, leaf.certPEM...), enterprise.certPEM...), leaf.keyPEM...), 0o600)
	caFile := filepath.Join(dir, "cluster-ca.crt")

	out, errOut, err := run(t, f.kubeconfig(t), NewCmdExpose, "--via", "haproxy", "--host", testHost+".",
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
	if err != nil || !bytes.Equal(got, clusterCA.certPEM) {
		t.Fatalf("CA file = %q, %v; want the cluster CA", got, err)
	}
	if st, _ := os.Stat(caFile); st.Mode().Perm() != 0o644 {
		t.Errorf("CA file mode %v, want 0644", st.Mode().Perm())
	}
	if r := f.requests(); len(r) != 1 || r[0].Auth != "Bearer admin-token" {
		t.Errorf("requests = %+v; want one authenticated GET of the ConfigMap", r)
	}

	t.Run("cert file without key", func(t *testing.T) {
		os.WriteFile(certFile, leaf.certPEM, 0o600)
		_, _, err := run(t, f.kubeconfig(t), NewCmdExpose, "--via", "haproxy", "--host", testHost, "--cert-file", certFile, "--ca-file", caFile, "--upstream", "10.0.0.1:6443")
		if err == nil || !strings.Contains(err.Error(), "private key") {
			t.Fatalf("err = %v; want a complaint about the key", err)
		}
	})
	t.Run("apply is refused", func(t *testing.T) {
		_, _, err := run(t, f.kubeconfig(t), NewCmdExpose, "--via", "haproxy", "--host", testHost, "--cert-file", certFile, "--ca-file", caFile, "--apply")
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
		"unknown via":       {"--via", "nginx", "--host", testHost, "--tls-secret", "x"},
		"haproxy flag":      {"--via", "contour", "--host", testHost, "--tls-secret", "x", "--bind", "0.0.0.0:443"},
		"dry-run no apply":  {"--via", "contour", "--host", testHost, "--tls-secret", "x", "--dry-run=server"},
		"haproxy no ca":     {"--via", "haproxy", "--host", testHost, "--cert-file", "/x.pem"},
		"ingress elsewhere": {"--via", "ingress-nginx", "--host", testHost, "--tls-secret", "x", "-n", "edge"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, f.kubeconfig(t), NewCmdExpose, args...)
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
	ca := newPair(t, nil, "enterprise")
	good := newPair(t, ca, "kapi", testHost)
	other := newPair(t, ca, "other", "other.example.com")
	chain := func(p *pair) []byte { return append(append([]byte{}, p.certPEM...), ca.certPEM...) }
	f.set("/api/v1/namespaces/default/secrets/good", tlsSecret("kubernetes.io/tls", chain(good), good.keyPEM))
	f.set("/api/v1/namespaces/certs/secrets/good", tlsSecret("kubernetes.io/tls", chain(good), good.keyPEM))
	f.set("/api/v1/namespaces/default/secrets/opaque", tlsSecret("Opaque", chain(good), good.keyPEM))
	f.set("/api/v1/namespaces/default/secrets/garbage", tlsSecret("kubernetes.io/tls", []byte("not a certificate"), good.keyPEM))
	f.set("/api/v1/namespaces/default/secrets/mismatch", tlsSecret("kubernetes.io/tls", chain(good), other.keyPEM))
	f.set("/api/v1/namespaces/default/secrets/other", tlsSecret("kubernetes.io/tls", chain(other), other.keyPEM))
	kc := f.kubeconfig(t)

	for _, c := range []struct{ secret, wantErr string }{
		{"missing", "TLS secret default/missing does not exist"},
		{"opaque", `is of type "Opaque", not kubernetes.io/tls`},
		{"garbage", "does not hold a usable certificate and key"},
		{"mismatch", "does not hold a usable certificate and key"},
	} {
		t.Run(c.secret, func(t *testing.T) {
			out, _, err := run(t, kc, NewCmdExpose, "--via", "contour", "--host", testHost, "--tls-secret", c.secret)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || out != "" {
				t.Fatalf("err = %v (stdout %q); want %q", err, out, c.wantErr)
			}
			if !strings.Contains(err.Error(), "kubectl create secret tls") {
				t.Errorf("error does not say how to fix it: %v", err)
			}
		})
	}
	t.Run("wrong name warns", func(t *testing.T) {
		out, errOut, err := run(t, kc, NewCmdExpose, "--via", "contour", "--host", testHost, "--tls-secret", "other")
		if err != nil || !strings.Contains(out, "kind: HTTPProxy") {
			t.Fatalf("err = %v, out:\n%s", err, out)
		}
		if !strings.Contains(errOut, "is not valid for "+testHost) {
			t.Fatalf("no name warning:\n%s", errOut)
		}
	})
	t.Run("good, in another namespace", func(t *testing.T) {
		out, errOut, err := run(t, kc, NewCmdExpose, "--via", "gateway", "--host", testHost, "--tls-secret", "certs/good")
		if err != nil || !strings.Contains(out, "kind: Gateway") || strings.Contains(errOut, "not valid for") {
			t.Fatalf("err = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		}
	})
}

func TestExposeClusterProblems(t *testing.T) {
	t.Run("no kube-root-ca.crt", func(t *testing.T) {
		f := newFakeAPI(t)
		_, _, err := run(t, f.kubeconfig(t), NewCmdExpose, "--via", "contour", "--host", testHost, "--tls-secret", "x")
		if err == nil || !strings.Contains(err.Error(), "the cluster has no ConfigMap kube-root-ca.crt in namespace default; is kube-controller-manager running?") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		kc := writeKubeconfig(t, "https://"+addr, newPair(t, nil, "ca").certPEM)
		_, _, err := run(t, kc, NewCmdExpose, "--via", "contour", "--host", testHost, "--tls-secret", "x")
		if err == nil || !strings.Contains(err.Error(), "cannot reach the cluster") || !strings.Contains(err.Error(), "--cluster-ca-file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("offline with --cluster-ca-file", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.crt")
		os.WriteFile(caFile, newPair(t, nil, "ca").certPEM, 0o644)
		out, errOut, err := run(t, filepath.Join(t.TempDir(), "missing"), NewCmdExpose, "--via", "ingress-nginx", "--host", testHost, "--tls-secret", "x", "--cluster-ca-file", caFile)
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
	ca := newPair(t, nil, "enterprise")
	good := newPair(t, ca, "kapi", testHost)
	f.set("/api/v1/namespaces/certs/secrets/kapi-tls", tlsSecret("kubernetes.io/tls", append(good.certPEM, ca.certPEM...), good.keyPEM))
	out, errOut, err := run(t, f.kubeconfig(t), NewCmdExpose, "--via", "contour", "--host", testHost, "--namespace", "edge",
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
			p.Query != "dryRun=All&fieldManager=securekapi&force=false" || !bytes.Contains(p.Body, []byte("kind: ")) {
			t.Errorf("patch %d = %s %s?%s (%s)", i, p.Method, p.Path, p.Query, p.ContentType)
		}
		if bytes.HasPrefix(p.Body, []byte("#")) {
			t.Errorf("patch %d carries the header comment", i)
		}
	}
}
