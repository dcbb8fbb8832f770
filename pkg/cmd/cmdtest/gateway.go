package cmdtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// Gateway is an mTLS access gateway in connect mode, as Squid's https_port
// with clientca= is: it asks for a client certificate from its client CA,
// refuses a connection without one, and relays a CONNECT to its target.
type Gateway struct {
	// Addr is its host:port.
	Addr string
	// CAFile holds the CA of its own certificate (--tunnel-ca-file);
	// ClientCertFile and ClientKeyFile a client certificate it accepts.
	CAFile, ClientCertFile, ClientKeyFile string
	// Connects counts the CONNECTs it relayed.
	Connects atomic.Int32
}

// NewGateway starts a Gateway for the tests' lifetime.
func NewGateway(t *testing.T) *Gateway {
	t.Helper()
	serverCA, clientCA := testpki.Root(t, "gateway CA"), testpki.Root(t, "client CA")
	leaf := testpki.Leaf(t, serverCA, "127.0.0.1")
	client := testpki.New(t, testpki.Spec{CN: "kubectl user", Issuer: clientCA, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	g := &Gateway{
		CAFile:         testpki.WritePEM(t, "gateway-ca.pem", serverCA.CertPEM),
		ClientCertFile: testpki.WritePEM(t, "client.pem", client.CertPEM),
		ClientKeyFile:  testpki.WritePEM(t, "client-key.pem", client.KeyPEM),
	}
	clients := x509.NewCertPool()
	clients.AddCert(clientCA.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(g.relay))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate()}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	g.Addr = srv.Listener.Addr().String()
	return g
}

func (g *Gateway) relay(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	upstream, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer upstream.Close()
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	g.Connects.Add(1)
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	// Either side closing ends both, as Squid does.
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(upstream, buf); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, upstream); done <- struct{}{} }()
	<-done
}

// Tunneled registers cluster-a behind a new Gateway and writes it to
// kubeconfig with `use`, the state `run`, `proxy` and `shell` start from.
// newAdd and newUse are add.NewCmdAdd and use.NewCmdUse (passed in: this
// package imports no command).
func Tunneled(t *testing.T, newAdd, newUse func(*cmdutil.Factory) *cobra.Command) (*AddFixture, *Gateway) {
	t.Helper()
	gw := NewGateway(t)
	f, _, _ := Usable(t, newAdd, 0o600)
	args := f.Args("cluster-a", "--replace", "--tunnel-gateway", gw.Addr, "--tunnel-ca-file", gw.CAFile,
		"--tunnel-client-cert", gw.ClientCertFile, "--tunnel-client-key", gw.ClientKeyFile)
	if _, errOut, err := RunWithEnv(t, f.Env, newAdd, args...); err != nil {
		t.Fatalf("add with a tunnel: %v\n%s", err, errOut)
	}
	if _, errOut, err := RunWithEnv(t, f.Env, newUse, "cluster-a"); err != nil {
		t.Fatalf("use: %v\n%s", err, errOut)
	}
	return f, gw
}

// AskThrough asks the current context's server of the kubeconfig at path
// for "/" the way kubectl connects (its proxy-url, its pinned CA data,
// client-go's transport), without the exec plugin, and says what answered
// and through which proxy (password redacted).
func AskThrough(path string) (string, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return "", err
	}
	cfg.ExecProvider = nil
	via := "no proxy"
	if cfg.Proxy != nil {
		if u, err := cfg.Proxy(&http.Request{}); err == nil && u != nil {
			via = u.Redacted() // the loopback proxy's password stays out of logs
		}
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: rt}).Get(cfg.Host + "/")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return fmt.Sprintf("endpoint answered %d through %s", resp.StatusCode, via), nil
}
