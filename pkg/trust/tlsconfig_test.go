package trust

import (
	"crypto/tls"
	"errors"
	"net"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// TestTLSConfigVerifiesEveryHandshake: a handshake under Policy.TLSConfig
// succeeds only with the pinned chain for the bound name. A bundle that
// also holds a rogue root satisfies crypto/tls's own check, so only the
// VerifyConnection hook stands between the rogue server and the client:
// this test fails without it.
func TestTLSConfigVerifiesEveryHandshake(t *testing.T) {
	root, rogue := newRoot(t, "Pinned Root"), newRoot(t, "Rogue Root")
	policy := Policy{CABundle: certsOf(root, rogue), Pins: []pinning.Pin{PinFor(root.Cert)}, ServerName: testHost, Now: testNow}

	handshake := func(t *testing.T, chain ...*testpki.Pair) error {
		t.Helper()
		srv := serveChain(t, chain...)
		conn, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := tls.Client(conn, policy.TLSConfig())
		err = c.HandshakeContext(t.Context())
		if err == nil && c.ConnectionState().ServerName != testHost {
			t.Errorf("SNI %q, want the bound name %q", c.ConnectionState().ServerName, testHost)
		}
		return err
	}

	if err := handshake(t, newLeaf(t, root), root); err != nil {
		t.Fatalf("the pinned chain for the bound name: %v", err)
	}
	var te *Error
	if err := handshake(t, newLeaf(t, rogue), rogue); !errors.As(err, &te) || te.Kind != KindPinMismatch {
		t.Errorf("a rogue root's chain the bundle trusts: %v, want a pin mismatch", err)
	}
	other := issue(t, testpki.Spec{CN: "evil.example", Names: []string{"evil.example"}, Issuer: root})
	if err := handshake(t, other, root); err == nil {
		t.Error("a pinned-CA certificate for another name was accepted")
	}
}
