package localproxy

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
)

// TestDialTakesKubectlsPath: Dial reaches the API server through the proxy
// and the gateway, with TLS end to end, and is refused what kubectl would be.
func TestDialTakesKubectlsPath(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(ModeConnect, "", e.apiServer.Listener.Addr().String())
	p := e.startProxy(e.config(gw.addr(), ModeConnect))

	conn, err := p.Dial(t.Context(), apiTarget)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(conn, &tls.Config{RootCAs: testpki.Pool(e.apiCA), ServerName: "kapi.example.test"})
	if err := tc.HandshakeContext(t.Context()); err != nil {
		t.Fatalf("TLS to the API server through Dial: %v", err)
	}
	if got := tc.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "kapi.example.test" {
		t.Errorf("reached %q, want the API server", got)
	}
	tc.Close()

	if _, err := p.Dial(t.Context(), "evil.example.test:443"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("Dial to a target not allowed: %v, want a 403", err)
	}
}
