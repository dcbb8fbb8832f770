package testpki_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust"
)

// TestChainVerifiesForItsNamesOnly: a leaf under an intermediate under a
// root verifies for its DNS name and IP, and for no other name; a
// certificate outside its window, or for client auth only, does not.
func TestChainVerifiesForItsNamesOnly(t *testing.T) {
	root := testpki.Root(t, "Root")
	mid := testpki.Intermediate(t, root, "Intermediate")
	leaf := testpki.Leaf(t, mid, "kapi.example.test", "127.0.0.1")
	verify := func(c *x509.Certificate, name string, at time.Time) error {
		_, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: testpki.Pool(root), Intermediates: testpki.Pool(mid), CurrentTime: at})
		return err
	}
	for _, name := range []string{"kapi.example.test", "127.0.0.1"} {
		if err := verify(leaf.Cert, name, time.Now()); err != nil {
			t.Errorf("leaf for %s: %v", name, err)
		}
	}
	if err := verify(leaf.Cert, "evil.example", time.Now()); err == nil {
		t.Error("the leaf verified for a name it does not carry")
	}
	if leaf.Cert.Subject.CommonName != "kapi.example.test" || leaf.Cert.IsCA || !mid.Cert.IsCA {
		t.Errorf("CN %q, leaf CA %v, intermediate CA %v", leaf.Cert.Subject.CommonName, leaf.Cert.IsCA, mid.Cert.IsCA)
	}

	clock := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	datedRoot := testpki.New(t, testpki.Spec{CN: "dated root", CA: true, Now: clock})
	dated := testpki.New(t, testpki.Spec{CN: "dated", Names: []string{"kapi.example.test"}, Issuer: datedRoot, Now: clock})
	if _, err := dated.Cert.Verify(x509.VerifyOptions{DNSName: "kapi.example.test", Roots: testpki.Pool(datedRoot), CurrentTime: clock}); err != nil {
		t.Errorf("a certificate on the test's clock: %v", err)
	}
	expired := testpki.New(t, testpki.Spec{CN: "expired", Names: []string{"kapi.example.test"}, Issuer: mid,
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if err := verify(expired.Cert, "kapi.example.test", time.Now()); err == nil {
		t.Error("an expired certificate verified")
	}
	client := testpki.New(t, testpki.Spec{CN: "alice", Issuer: mid, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err := verify(client.Cert, "", time.Now()); err == nil {
		t.Error("a client-auth certificate verified for server auth")
	}
}

// TestPEMAndPin: the PEM holds the certificate and a key that matches it
// (ECDSA by default, RSA when given one), and the pin is the one package
// trust computes.
func TestPEMAndPin(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaRoot := testpki.New(t, testpki.Spec{CN: "rsa", CA: true, Key: rsaKey})
	for name, p := range map[string]*testpki.Pair{"ECDSA": testpki.Root(t, "ec"), "RSA": rsaRoot} {
		if _, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
			t.Errorf("%s: the PEM key does not match the certificate: %v", name, err)
		}
		if block, _ := pem.Decode(p.CertPEM); block == nil || block.Type != "CERTIFICATE" || string(block.Bytes) != string(p.Cert.Raw) {
			t.Errorf("%s: CertPEM is not the certificate", name)
		}
		if p.Pin() != trust.PinFor(p.Cert) {
			t.Errorf("%s: pin %s, trust says %s", name, p.Pin(), trust.PinFor(p.Cert))
		}
	}
	if renewed := testpki.New(t, testpki.Spec{CN: "rsa (renewed)", CA: true, Key: rsaKey}); renewed.Pin() != rsaRoot.Pin() {
		t.Error("a certificate re-issued for the same key has another pin")
	}
	if a, b := testpki.Root(t, "ec"), testpki.Root(t, "ec"); a.Pin() == b.Pin() {
		t.Error("two roots share a key")
	}
}

// TestServerPresentsTheChain: a client trusting only the root reaches the
// server for the leaf's name, and is refused for another.
func TestServerPresentsTheChain(t *testing.T) {
	root := testpki.Root(t, "Root")
	mid := testpki.Intermediate(t, root, "Intermediate")
	srv := testpki.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }),
		testpki.Leaf(t, mid, "kapi.example.test"), mid)
	get := func(name string) (*http.Response, error) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: testpki.Pool(root), ServerName: name}}
		defer tr.CloseIdleConnections()
		return (&http.Client{Transport: tr}).Get(srv.URL)
	}
	resp, err := get("kapi.example.test")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d", resp.StatusCode)
	}
	if _, err := get("evil.example"); err == nil {
		t.Error("the client accepted the server for another name")
	}

	path := testpki.WritePEM(t, "bundle.pem", root.CertPEM, mid.CertPEM)
	data, err := os.ReadFile(path)
	if err != nil || string(data) != string(root.CertPEM)+string(mid.CertPEM) {
		t.Errorf("WritePEM wrote %q, %v", data, err)
	}
}
