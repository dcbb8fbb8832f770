package trust

import (
	"context"
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

func TestCheckWithCABundle(t *testing.T) {
	root := newRoot(t, "Corp Root")
	leaf := newLeaf(t, root)
	srv := serveChain(t, leaf)

	ep := pinning.Endpoint{URL: srv.url(), TLSServerName: testHost}
	v, err := Check(context.Background(), ep, Policy{CABundle: certsOf(root), Now: testNow}, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameCerts(v.Chain, certsOf(leaf, root)) {
		t.Errorf("chain %v", subjects(v.Chain))
	}
}

func TestCheckHostnameAndTLSServerName(t *testing.T) {
	root := newRoot(t, "Corp Root")
	// Valid for the DNS name only, not for the address we dial.
	leaf := issue(t, testpki.Spec{CN: testHost, Names: []string{testHost}, Issuer: root})
	srv := serveChain(t, leaf)
	policy := Policy{CABundle: certsOf(root), Now: testNow}

	_, err := Check(context.Background(), pinning.Endpoint{URL: srv.url()}, policy, FetchOptions{})
	te := requireKind(t, err, KindHostnameMismatch)
	if te.Endpoint != srv.url() || !strings.Contains(te.Error(), srv.url()) {
		t.Errorf("error does not name the endpoint %s: %v", srv.url(), te)
	}

	if _, err := Check(context.Background(), pinning.Endpoint{URL: srv.url(), TLSServerName: testHost}, policy, FetchOptions{}); err != nil {
		t.Fatalf("with TLSServerName: %v", err)
	}
	// SNI carries the DNS name, and nothing when dialing by IP.
	if got := srv.sentSNI(); !slices.Equal(got, []string{"", testHost}) {
		t.Errorf("SNI sent = %q, want [\"\" %q]", got, testHost)
	}
}

func TestCheckIPSAN(t *testing.T) {
	root := newRoot(t, "Corp Root")
	srv := serveChain(t, newLeaf(t, root)) // the leaf carries IP SAN 127.0.0.1

	v, err := Check(context.Background(), pinning.Endpoint{URL: srv.url() + "/k8s"}, Policy{CABundle: certsOf(root), Now: testNow}, FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Chain) != 2 {
		t.Errorf("chain %v", subjects(v.Chain))
	}
}

func TestCheckUnreachable(t *testing.T) {
	tests := map[string]string{
		"closed port":      closedPort(t),
		"never handshakes": silentServer(t),
	}
	for name, u := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Check(context.Background(), pinning.Endpoint{URL: u}, Policy{Now: testNow}, FetchOptions{Timeout: 300 * time.Millisecond})
			te := requireKind(t, err, KindUnreachable)
			if !strings.Contains(te.Error(), u) {
				t.Errorf("message does not name %s: %v", u, te)
			}
		})
	}
}

func TestCheckFollowsCARotation(t *testing.T) {
	oldRoot, newRoot := newRoot(t, "Corp Root 2024"), newRoot(t, "Corp Root 2026")
	srv := serveChain(t, newLeaf(t, oldRoot), oldRoot)
	policy := Policy{SystemRoots: x509.NewCertPool(), Pins: []pinning.Pin{PinFor(oldRoot.Cert), PinFor(newRoot.Cert)}, Now: testNow}
	ep := pinning.Endpoint{URL: srv.url(), TLSServerName: testHost}

	v, err := Check(context.Background(), ep, policy, FetchOptions{})
	if err != nil || v.MatchedPin != PinFor(oldRoot.Cert) {
		t.Fatalf("before rotation: %v, %+v", err, v)
	}
	srv.setChain(newLeaf(t, newRoot), newRoot)
	v, err = Check(context.Background(), ep, policy, FetchOptions{})
	if err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if v.MatchedPin != PinFor(newRoot.Cert) || !sameCerts(v.CAs, certsOf(newRoot)) {
		t.Errorf("after rotation: MatchedPin %q CAs %v, want the new root", v.MatchedPin, subjects(v.CAs))
	}
}

func TestFetchChainUsesDialer(t *testing.T) {
	root := newRoot(t, "Corp Root")
	leaf := newLeaf(t, root)
	srv := serveChain(t, leaf, root)
	var dialed string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = addr
		return (&net.Dialer{}).DialContext(ctx, network, srv.addr)
	}

	certs, err := FetchChain(context.Background(), pinning.Endpoint{URL: "https://" + testHost}, FetchOptions{DialContext: dial})
	if err != nil {
		t.Fatal(err)
	}
	if dialed != testHost+":443" {
		t.Errorf("dialed %q, want the default port", dialed)
	}
	if !sameCerts(certs, certsOf(leaf, root)) {
		t.Errorf("fetched %v, want [leaf root] in the order sent", subjects(certs))
	}
	if sni, alpn := srv.sentSNI(), srv.sentALPN(); !slices.Equal(sni, []string{testHost}) || len(alpn) != 1 || !slices.Equal(alpn[0], []string{"http/1.1"}) {
		t.Errorf("client hello SNI %q ALPN %q, want %q and http/1.1", sni, alpn, testHost)
	}
}

func TestFetchChainRejectsBadURL(t *testing.T) {
	_, err := FetchChain(context.Background(), pinning.Endpoint{URL: "http://" + testHost}, FetchOptions{})
	te := requireKind(t, err, KindInvalidInput)
	if !strings.Contains(te.Error(), "https://") {
		t.Errorf("message does not say https is required: %v", te)
	}
}

func TestEndpointAddressAndServerName(t *testing.T) {
	tests := []struct {
		url, sni   string
		addr, name string
		wantErr    string
	}{
		{url: "https://kapi.example.test", addr: "kapi.example.test:443", name: "kapi.example.test"},
		{url: "https://kapi.example.test:6443/prefix", addr: "kapi.example.test:6443", name: "kapi.example.test"},
		{url: " HTTPS://10.0.0.5:8443 ", sni: testHost, addr: "10.0.0.5:8443", name: testHost},
		{url: "https://[2001:db8::1]", addr: "[2001:db8::1]:443", name: "2001:db8::1"},
		{url: "http://kapi.example.test", wantErr: "https://"},
		{url: "kapi.example.test:6443", wantErr: "https://"},
		{url: "https:///path", wantErr: "no host"},
		{url: "https://kapi.example.test:0", wantErr: "port"},
		{url: "https://kapi.example.test:99999", wantErr: "port"},
		{url: "https://kapi example", wantErr: "malformed"},
	}
	for _, tt := range tests {
		ep := pinning.Endpoint{URL: tt.url, TLSServerName: tt.sni}
		addr, err := ep.Address()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Address(%q) error = %v, want one mentioning %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil || addr != tt.addr {
			t.Errorf("Address(%q) = %q, %v; want %q", tt.url, addr, err, tt.addr)
		}
		if got := ep.ServerName(); got != tt.name {
			t.Errorf("ServerName(%q) = %q, want %q", tt.url, got, tt.name)
		}
	}
}
