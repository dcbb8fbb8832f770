package tunnel_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/localproxy"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// behindGateway is a cluster whose endpoint is reached only through gw,
// and a kubeconfig holding its context (as `use` writes it) and another.
func behindGateway(t *testing.T, gw *cmdtest.Gateway) (*profile.Cluster, *x509.Certificate, *kubeconfig.Store) {
	t.Helper()
	server, root, _ := cmdtest.Endpoint(t)
	gatewayCA, err := os.ReadFile(gw.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	c := &profile.Cluster{Name: "cluster-a", Server: server, Tunnel: &profile.Tunnel{
		Gateway: gw.Addr, Mode: string(localproxy.ModeConnect), GatewayCAData: gatewayCA,
		ClientCertFile: gw.ClientCertFile, ClientKeyFile: gw.ClientKeyFile}}
	path := filepath.Join(t.TempDir(), "config")
	kc := `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: ` + server + `}}
- {name: other, cluster: {server: "https://other.example.com"}}
users:
- {name: a-user, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: kubectl-securekapi, args: [credential], interactiveMode: IfAvailable}}}
- {name: other-user, user: {token: other-token}}
contexts:
- {name: cluster-a, context: {cluster: a, user: a-user}}
- {name: other, context: {cluster: other, user: other-user}}
current-context: other
`
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return c, root.Cert, &kubeconfig.Store{ExplicitPath: path, Getenv: func(string) string { return "" }}
}

// getThrough asks server for "/" through the session's private
// kubeconfig's proxy, trusting root, the way kubectl would connect.
func getThrough(t *testing.T, s *tunnel.Session, root *x509.Certificate) *http.Response {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(s.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cluster := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]
	roots := x509.NewCertPool()
	roots.AddCert(root)
	proxyURL := s.Proxy.URL()
	if cluster.ProxyURL != proxyURL.String() {
		t.Fatalf("private kubeconfig routes through %q, the tunnel is %s", cluster.ProxyURL, proxyURL.Redacted())
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL),
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: cmdtest.TestHost}}}
	resp, err := client.Get(cluster.Server + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestSessionReachesTheClusterThroughTheGateway: a session starts a real
// loopback proxy from the cluster's tunnel settings, writes a private
// kubeconfig holding only that context, routed through it, and the
// endpoint answers through the mTLS gateway. The proxy's per-run
// credential is a secret from then on; Close removes the kubeconfig.
func TestSessionReachesTheClusterThroughTheGateway(t *testing.T) {
	gw := cmdtest.NewGateway(t)
	c, root, store := behindGateway(t, gw)
	var log bytes.Buffer
	env := tunnel.Env{Log: slog.New(slog.NewTextHandler(&log, nil)), Secrets: &redact.Secrets{}, Kubeconfig: store}
	s, err := env.Open(t.Context(), c, "127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	if resp := getThrough(t, s, root); resp.StatusCode != http.StatusNotFound || gw.Connects.Load() != 1 {
		t.Fatalf("through the tunnel: %s, %d CONNECTs at the gateway", resp.Status, gw.Connects.Load())
	}
	cfg, err := clientcmd.LoadFromFile(s.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Contexts) != 1 || cfg.CurrentContext != "cluster-a" || len(cfg.AuthInfos) != 1 || cfg.AuthInfos["a-user"].Exec == nil {
		t.Errorf("private kubeconfig holds %v (current %q), want only cluster-a with its exec stanza", cfg.Contexts, cfg.CurrentContext)
	}
	// Windows has no Unix modes (the file's ACL is atomicfile's, tested there).
	if fi, err := os.Stat(s.Kubeconfig); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("private kubeconfig mode: %v, %v", fi.Mode(), err)
	}
	password, _ := s.Proxy.URL().User.Password()
	if got := env.Secrets.Redact("proxy credential " + password); strings.Contains(got, password) {
		t.Errorf("the proxy's credential is not held as a secret: %q", got)
	}
	s.Close()
	if _, err := os.Stat(s.Kubeconfig); !os.IsNotExist(err) {
		t.Errorf("Close left the private kubeconfig: %v", err)
	}
}

// A cluster without a tunnel gets a private kubeconfig and no proxy,
// unless the command needs a tunnel (run, proxy), which names the fix.
func TestSessionWithoutATunnel(t *testing.T) {
	c, _, store := behindGateway(t, cmdtest.NewGateway(t))
	c.Tunnel = nil
	env := tunnel.Env{Kubeconfig: store}
	s, err := env.Open(t.Context(), c, "127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cfg, err := clientcmd.LoadFromFile(s.Kubeconfig); s.Proxy != nil || err != nil || cfg.Clusters["a"].ProxyURL != "" {
		t.Errorf("a session without a tunnel: proxy %v, %v", s.Proxy, err)
	}
	if _, err := env.Open(t.Context(), c, "127.0.0.1:0", true); err == nil || !strings.Contains(err.Error(), "kubectl securekapi add cluster-a --tunnel-gateway") {
		t.Errorf("a tunnel required, none registered: %v", err)
	}
	c.Name = "unused"
	if _, _, err := env.PrivateKubeconfig(c.Name, nil); err == nil || !strings.Contains(err.Error(), "kubectl securekapi use unused") {
		t.Errorf("a context not in the kubeconfig: %v", err)
	}
}

// A gateway that refuses our client certificate is diagnosed as such, and
// GatewayFix names the setting to check rather than the caller's guess.
func TestGatewayRefusalNamesTheFix(t *testing.T) {
	gw := cmdtest.NewGateway(t)
	c, _, _ := behindGateway(t, gw)
	stranger := testpki.New(t, testpki.Spec{CN: "stranger", Issuer: testpki.Root(t, "another CA"), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	c.Tunnel.ClientCertFile = testpki.WritePEM(t, "stranger.pem", stranger.CertPEM)
	c.Tunnel.ClientKeyFile = testpki.WritePEM(t, "stranger-key.pem", stranger.KeyPEM)
	p, err := tunnel.Env{Log: slog.New(slog.DiscardHandler)}.Start(t.Context(), c, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tunnel.Stop(p)
	target := strings.TrimPrefix(c.Server, "https://")
	_, err = p.CheckGateway(t.Context(), target)
	if err == nil {
		t.Fatal("the gateway let a stranger's certificate through")
	}
	const fallback = "the caller's guess"
	if fix := tunnel.GatewayFix(err, fallback); fix == fallback || fix == "" {
		t.Errorf("GatewayFix(%v) = %q", err, fix)
	}
	if fix := tunnel.GatewayFix(os.ErrDeadlineExceeded, fallback); fix != fallback {
		t.Errorf("GatewayFix of another error = %q", fix)
	}
}

// The mode is checked once (localproxy.Mode.Check): a profile, `add` and
// the proxy all refuse a mode that is neither connect nor direct.
func TestModeCheckedOnce(t *testing.T) {
	gw := cmdtest.NewGateway(t)
	c, _, _ := behindGateway(t, gw)
	c.Tunnel.Mode = "socks"
	if _, err := (tunnel.Env{}).Start(t.Context(), c, "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), `gateway mode "socks": must be "connect"`) {
		t.Errorf("Start with mode socks: %v", err)
	}
	if err := c.Tunnel.Validate(); err == nil || !strings.Contains(err.Error(), `tunnel.mode "socks": must be "connect"`) {
		t.Errorf("profile validation of mode socks: %v", err)
	}
}
