package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// exposeResult is one run of `kubectl securekapi expose`.
type exposeResult struct {
	Stdout, Stderr string
	Err            error
}

// expose runs the built plugin's expose command as the platform owner:
// through the admin kubeconfig unless args pass another --kubeconfig.
func runExpose(ctx context.Context, t *testing.T, args ...string) exposeResult {
	t.Helper()
	bin := os.Getenv("SECUREKAPI_BIN")
	if bin == "" {
		t.Fatal("set SECUREKAPI_BIN to the built kubectl-securekapi (make build)")
	}
	full := append([]string{"expose"}, args...)
	if !strings.Contains(strings.Join(args, " "), "--kubeconfig") {
		full = append(full, "--kubeconfig", shared.AdminKubeconfig())
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return exposeResult{stdout.String(), stderr.String(), err}
}

// mustExpose runs expose and fails the test unless it succeeds.
func mustExpose(ctx context.Context, t *testing.T, args ...string) exposeResult {
	t.Helper()
	r := runExpose(ctx, t, args...)
	if r.Err != nil {
		t.Fatalf("expose %s: %v\n%s", strings.Join(args, " "), r.Err, r.Stderr)
	}
	return r
}

// applySecret creates or replaces a Secret of the given type.
func applySecret(ctx context.Context, t *testing.T, ns, name, typ string, crt, key []byte) {
	t.Helper()
	s, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": typ,
		"metadata": map[string]string{"name": name, "namespace": ns},
		"data":     map[string][]byte{"tls.crt": crt, "tls.key": key},
	})
	if err != nil {
		t.Fatal(err)
	}
	admin(ctx, t, nil, "delete", "secret", name, "-n", ns, "--ignore-not-found")
	admin(ctx, t, s, "create", "-f", "-")
}

// tlsSecretFor issues an enterprise certificate for names and stores it,
// with the enterprise CA after the leaf, as a kubernetes.io/tls Secret.
func tlsSecretFor(ctx context.Context, t *testing.T, ns, name string, names ...string) {
	t.Helper()
	leaf, err := shared.EnterpriseCA.Issue(names[0], stack.LeafOptions{DNSNames: names})
	if err != nil {
		t.Fatal(err)
	}
	applySecret(ctx, t, ns, name, "kubernetes.io/tls", append(append([]byte{}, leaf.CertPEM...), shared.EnterpriseCA.CertPEM...), leaf.KeyPEM)
}

func ensureNamespace(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	admin(ctx, t, []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+ns+"\n"), "apply", "-f", "-")
}

// TestExposeAppliesAgainstRealCRDs installs Contour's and Gateway API's
// CRDs into the real kube-apiserver, then server-side dry-runs everything
// `expose` prints with strict field validation (a misspelt or misplaced
// field fails here, not at a customer), and has `expose --apply
// --dry-run=server` send the same objects itself.
func TestExposeAppliesAgainstRealCRDs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installCRDs(ctx, t)
	const host, edge, certs = "kapi.example.com", "securekapi-edge", "securekapi-certs"
	for _, ns := range []string{edge, certs} { // dry runs need their namespaces to exist
		ensureNamespace(ctx, t, ns)
	}
	tlsSecretFor(ctx, t, "default", "kapi-tls", host)
	tlsSecretFor(ctx, t, certs, "kapi-tls", host)
	tlsSecretFor(ctx, t, "default", "b", "b."+host)
	cases := []struct {
		name string
		args []string
	}{
		{"contour in default", []string{"--via", "contour", "--host", host, "--tls-secret", "kapi-tls"}},
		{"contour root elsewhere", []string{"--via", "contour", "--host", host, "--namespace", edge, "--tls-secret", certs + "/kapi-tls"}},
		{"contour second name", []string{"--via", "contour", "--host", "b." + host, "--name", "partner-b", "--tls-secret", "b"}},
		{"gateway in default", []string{"--via", "gateway", "--host", host, "--tls-secret", "kapi-tls"}},
		{"gateway elsewhere", []string{"--via", "gateway", "--host", host, "--namespace", edge, "--tls-secret", certs + "/kapi-tls", "--class", "eg"}},
		{"ingress-nginx", []string{"--via", "ingress-nginx", "--host", host, "--tls-secret", "kapi-tls"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustExpose(ctx, t, c.args...)
			if strings.Contains(r.Stderr, "not valid for") || !strings.Contains(r.Stderr, "Warning: The proxy ends the client's TLS session") {
				t.Errorf("unexpected warnings:\n%s", r.Stderr)
			}
			res, err := shared.AdminKubectl(ctx, []byte(r.Stdout), "apply", "--dry-run=server", "--validate=strict", "-f", "-")
			if err != nil {
				t.Fatalf("kubectl apply --dry-run=server: %v\n%s\n--- generated:\n%s", err, res, r.Stdout)
			}
			a := mustExpose(ctx, t, append(c.args, "--apply", "--dry-run=server")...)
			lines := strings.Split(strings.TrimSpace(a.Stdout), "\n")
			docs := strings.Count(r.Stdout, "\n---\n")
			if len(lines) != docs {
				t.Fatalf("expose --apply --dry-run=server printed %d lines for %d objects:\n%s", len(lines), docs, a.Stdout)
			}
			for _, l := range lines {
				if !strings.HasSuffix(l, " serverside-applied (server dry run)") {
					t.Errorf("unexpected line %q", l)
				}
			}
		})
	}
	// Nothing was persisted by the dry runs.
	out, err := shared.AdminKubectl(ctx, nil, "get", "httpproxies,gateways,httproutes,ingresses", "-A", "-o", "name")
	if err != nil {
		t.Fatalf("kubectl get: %v\n%s", err, out)
	}
	for _, obj := range []string{"/securekapi\n", "/partner-b\n"} {
		if strings.Contains(string(out), obj) {
			t.Fatalf("the dry runs left objects behind:\n%s", out)
		}
	}
}

// TestExposeApplyForReal applies ingress-nginx's objects (core and
// networking.k8s.io kinds, no CRDs needed) with server-side apply, twice,
// and checks the CA Secret carries the cluster CA.
func TestExposeApplyForReal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const host, name = "apply.example.test", "e2e-apply"
	tlsSecretFor(ctx, t, "default", name+"-tls", host)
	t.Cleanup(func() {
		_, _ = shared.AdminKubectl(context.Background(), nil, "delete", "ingress/"+name, "secret/"+name+"-cluster-ca", "secret/"+name+"-tls", "-n", "default", "--ignore-not-found")
	})
	args := []string{"--via", "ingress-nginx", "--host", host, "--tls-secret", name + "-tls", "--name", name, "--apply"}
	want := fmt.Sprintf("secret/%s-cluster-ca serverside-applied\ningress.networking.k8s.io/%s serverside-applied\n", name, name)
	for i := 0; i < 2; i++ { // the second apply finds its own fields: no conflict
		if r := mustExpose(ctx, t, args...); r.Stdout != want {
			t.Fatalf("apply %d printed:\n%s\nwant:\n%s", i+1, r.Stdout, want)
		}
	}
	out, err := shared.AdminKubectl(ctx, nil, "get", "secret", name+"-cluster-ca", "-n", "default", "-o", `jsonpath={.data.ca\.crt}`)
	if err != nil {
		t.Fatalf("get the CA secret: %v\n%s", err, out)
	}
	if ca, err := base64.StdEncoding.DecodeString(string(out)); err != nil || !bytes.Equal(ca, shared.ClusterCAPEM) {
		t.Fatalf("CA secret holds %q (%v), want the cluster CA", ca, err)
	}
	out, err = shared.AdminKubectl(ctx, nil, "get", "ingress", name, "-n", "default", "-o", "jsonpath={.metadata.managedFields[*].manager}")
	if err != nil || strings.TrimSpace(string(out)) != "securekapi" {
		t.Fatalf("ingress field managers = %q, %v; want securekapi", out, err)
	}
}

// TestExposeRefuses: what the platform owner gets wrong is refused, with
// nothing on stdout and the fix on stderr.
func TestExposeRefuses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const host = "refuse.example.test"
	applySecret(ctx, t, "default", "e2e-opaque", "Opaque", []byte("x"), []byte("y"))
	applySecret(ctx, t, "default", "e2e-garbage", "kubernetes.io/tls", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), []byte("garbage"))
	tlsSecretFor(ctx, t, "default", "e2e-other-name", "other.example.test")
	t.Cleanup(func() {
		_, _ = shared.AdminKubectl(context.Background(), nil, "delete", "secret", "e2e-opaque", "e2e-garbage", "e2e-other-name", "-n", "default", "--ignore-not-found")
	})
	closed := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	writeUnreachableKubeconfig(t, closed, fmt.Sprintf("https://127.0.0.1:%d", freeTCPPort(t)))

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"IP host", []string{"--via", "contour", "--host", "10.0.0.1", "--tls-secret", "x"}, "is an IP address"},
		{"wildcard host", []string{"--via", "contour", "--host", "*.example.test", "--tls-secret", "x"}, "is a wildcard"},
		{"underscore host", []string{"--via", "gateway", "--host", "k_api.example.test", "--tls-secret", "x"}, "may only hold a-z, 0-9 and '-'"},
		{"empty label", []string{"--via", "contour", "--host", "kapi..example.test", "--tls-secret", "x"}, "empty label"},
		{"URL as host", []string{"--via", "contour", "--host", "https://kapi.example.test", "--tls-secret", "x"}, "looks like a URL"},
		{"missing TLS secret", []string{"--via", "contour", "--host", host, "--tls-secret", "e2e-does-not-exist"}, "TLS secret default/e2e-does-not-exist does not exist"},
		{"secret of the wrong type", []string{"--via", "contour", "--host", host, "--tls-secret", "e2e-opaque"}, `is of type "Opaque", not kubernetes.io/tls`},
		{"garbage certificate", []string{"--via", "gateway", "--host", host, "--tls-secret", "e2e-garbage"}, "does not hold a usable certificate and key"},
		{"haproxy is not applied", []string{"--via", "haproxy", "--host", host, "--cert-file", filepath.Join(shared.Dir, "kapi.pem"), "--ca-file", filepath.Join(t.TempDir(), "ca.crt"), "--apply"}, "--apply applies only with --via contour, gateway or ingress-nginx"},
		{"haproxy cert file without key", []string{"--via", "haproxy", "--host", host, "--cert-file", shared.EnterpriseCAFile, "--ca-file", filepath.Join(t.TempDir(), "ca.crt")}, "private key"},
		{"unreachable cluster", []string{"--via", "contour", "--host", host, "--tls-secret", "x", "--kubeconfig", closed}, "cannot reach the cluster"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runExpose(ctx, t, c.args...)
			if r.Err == nil || r.Stdout != "" || !strings.Contains(r.Stderr, c.want) {
				t.Fatalf("expose %s: err=%v\nstdout:\n%s\nstderr:\n%s\nwant an error with %q", strings.Join(c.args, " "), r.Err, r.Stdout, r.Stderr, c.want)
			}
		})
	}
	t.Run("unreachable cluster names --cluster-ca-file, which works offline", func(t *testing.T) {
		r := runExpose(ctx, t, "--via", "contour", "--host", host, "--tls-secret", "x", "--kubeconfig", closed)
		if !strings.Contains(r.Stderr, "--cluster-ca-file") {
			t.Fatalf("no --cluster-ca-file hint:\n%s", r.Stderr)
		}
		r = mustExpose(ctx, t, "--via", "contour", "--host", host, "--tls-secret", "x", "--kubeconfig", closed, "--cluster-ca-file", shared.ClusterCAFile)
		if !strings.Contains(r.Stdout, "kind: HTTPProxy") || !strings.Contains(r.Stderr, "Not checking TLS secret default/x") {
			t.Fatalf("offline expose:\nstdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
		}
	})
	t.Run("a certificate for another name only warns", func(t *testing.T) {
		r := mustExpose(ctx, t, "--via", "contour", "--host", host, "--tls-secret", "e2e-other-name")
		if !strings.Contains(r.Stderr, "is not valid for "+host) || !strings.Contains(r.Stdout, "kind: HTTPProxy") {
			t.Fatalf("stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
		}
	})
}

// TestExposeWithoutKubeRootCA: a cluster where nothing publishes
// kube-root-ca.crt (no kube-controller-manager) gets a clear refusal. It
// deletes the stack's ConfigMap for a moment, so it must not run in
// parallel with other expose tests.
func TestExposeWithoutKubeRootCA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tlsSecretFor(ctx, t, "default", "e2e-root-ca-tls", "kapi.example.test")
	admin(ctx, t, nil, "delete", "configmap", "kube-root-ca.crt", "-n", "default")
	t.Cleanup(func() {
		_, _ = shared.AdminKubectl(context.Background(), nil, "delete", "secret", "e2e-root-ca-tls", "-n", "default", "--ignore-not-found")
		if err := shared.PublishClusterCA(context.Background()); err != nil {
			t.Errorf("recreate kube-root-ca.crt: %v", err)
		}
	})
	for _, via := range []string{"contour", "gateway"} {
		r := runExpose(ctx, t, "--via", via, "--host", "kapi.example.test", "--tls-secret", "e2e-root-ca-tls")
		want := "the cluster has no ConfigMap kube-root-ca.crt in namespace default; is kube-controller-manager running?"
		if r.Err == nil || r.Stdout != "" || !strings.Contains(r.Stderr, want) {
			t.Fatalf("expose --via %s: err=%v\nstdout:\n%s\nstderr:\n%s", via, r.Err, r.Stdout, r.Stderr)
		}
	}
}

// writeKubeconfig writes a kubeconfig for server with a dummy token.
func writeUnreachableKubeconfig(t *testing.T, path, server string) {
	t.Helper()
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority: %s\n"+
		"users:\n- name: u\n  user:\n    token: x\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n", server, shared.ClusterCAFile)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// installCRDs applies the pinned CRDs that crds/fetch.sh caches (fetching
// them on first use) and waits until the API server serves them.
func installCRDs(ctx context.Context, t *testing.T) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "sh", "crds/fetch.sh").Output()
	if err != nil {
		t.Fatalf("crds/fetch.sh: %v (it needs go and the module proxy; run it by hand to see why)", err)
	}
	dir := strings.TrimSpace(string(out))
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %q from crds/fetch.sh: remove that directory and run it again", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		admin(ctx, t, data, "apply", "--server-side", "-f", "-")
	}
	admin(ctx, t, nil, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
}

func admin(ctx context.Context, t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	if out, err := shared.AdminKubectl(ctx, stdin, args...); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestExposeHAProxyServes runs the real haproxy from `expose --via haproxy`
// in front of the real kube-apiserver: with the CA expose fetched from the
// cluster it reaches the API server as the token's user; told that another
// CA is the cluster's (--cluster-ca-file), it refuses to forward.
func TestExposeHAProxyServes(t *testing.T) {
	t.Run("with the cluster CA it forwards", func(t *testing.T) {
		url, caFile := runHAProxy(t)
		if ca, err := os.ReadFile(caFile); err != nil || !bytes.Equal(ca, shared.ClusterCAPEM) {
			t.Fatalf("--ca-file holds %q (%v), want the CA from kube-root-ca.crt", ca, err)
		}
		out, err := kubectl(t, nil, "--kubeconfig=/dev/null", "--server="+url, "--token="+shared.AdminToken,
			"--certificate-authority="+shared.EnterpriseCAFile, "--tls-server-name="+stack.EndpointServerName,
			"--request-timeout=10s", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if err != nil || strings.TrimSpace(out) != "e2e-admin" {
			t.Fatalf("kubectl auth whoami through the generated haproxy = %q, %v; want e2e-admin", out, err)
		}
	})
	t.Run("with another CA it refuses the API server", func(t *testing.T) {
		url, _ := runHAProxy(t, "--cluster-ca-file", shared.EnterpriseCAFile)
		resp, err := endpointClient(t).Get(url + "/version")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("GET /version with the wrong upstream CA: %s %s; want 503", resp.Status, body)
		}
	})
}

// runHAProxy starts haproxy from `expose --via haproxy` output, after
// `haproxy -c` accepts it, and returns its URL and the CA file expose
// wrote. The test's cleanup stops it by pid.
func runHAProxy(t *testing.T, extra ...string) (url, caFile string) {
	t.Helper()
	port := freeTCPPort(t)
	dir := t.TempDir()
	caFile = filepath.Join(dir, "cluster-ca.crt")
	r := mustExpose(context.Background(), t, append([]string{"--via", "haproxy", "--host", stack.EndpointServerName,
		"--bind", fmt.Sprintf("127.0.0.1:%d", port),
		"--cert-file", filepath.Join(shared.Dir, "kapi.pem"), // the stack's endpoint chain and key
		"--ca-file", caFile, "--upstream", strings.TrimPrefix(shared.APIServerURL, "https://")}, extra...)...)
	cfg := []byte(r.Stdout)
	cfgFile := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c rejects expose's config: %v\n%s\n%s", err, out, cfg)
	}
	var logs bytes.Buffer
	cmd := exec.Command("haproxy", "-db", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v (install it: apt-get install -y haproxy)", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.After(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "https://" + addr, caFile
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("haproxy exited: %v\n%s\n%s", err, logs.String(), cfg)
		case <-deadline:
			t.Fatalf("haproxy did not listen on %s within 10s\n%s", addr, cfg)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// endpointClient trusts exactly the enterprise CA, as a third party does.
func endpointClient(t *testing.T) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(shared.EnterpriseCA.CertPEM) {
		t.Fatal("no enterprise CA")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: stack.EndpointServerName},
	}}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
