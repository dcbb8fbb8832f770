// Package testpki makes the certificates tests need: roots, intermediates
// and leaves for given names, their PEM and SPKI pin, and TLS servers that
// present them. It is the one place the module's tests issue certificates
// from; only tests import it (pkg/cmd's layering test checks that no
// program links it).
//
// A test that needs a deliberately odd certificate (an unusual encoding, a
// key type the pin parser must handle) builds that one by hand, next to
// the comment that says why.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Pair is a certificate, the key it certifies, and both in PEM.
type Pair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM is one CERTIFICATE block; KeyPEM is "EC PRIVATE KEY" (SEC 1)
	// for an ECDSA key, "PRIVATE KEY" (PKCS #8) for any other.
	CertPEM, KeyPEM []byte
}

// Spec describes a certificate to issue. The zero value is a self-signed
// leaf for server auth, valid from an hour before now to a day after.
type Spec struct {
	CN string
	// CA makes a certificate authority (root or intermediate); otherwise
	// it is a leaf (an end entity), even when self-signed.
	CA bool
	// Names are the DNS names and IP addresses the certificate is valid for.
	Names []string
	// Issuer signs the certificate; nil: it signs itself.
	Issuer *Pair
	// Now is the time the default validity is around (zero: time.Now()),
	// for tests that verify on their own clock.
	Now time.Time
	// NotBefore and NotAfter override the validity window (zero: an hour
	// before Now, a day after Now).
	NotBefore, NotAfter time.Time
	// ExtKeyUsage is a leaf's extended key usage (nil: server auth).
	ExtKeyUsage []x509.ExtKeyUsage
	// Key is the key certified (nil: a new P-256 key). Pass an RSA key for
	// an RSA certificate, or another pair's Key to re-issue it.
	Key crypto.Signer
}

// New issues the certificate s describes.
func New(t testing.TB, s Spec) *Pair {
	t.Helper()
	key := s.Key
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := s.Now
	if now.IsZero() {
		now = time.Now()
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.CN},
		NotBefore:             orTime(s.NotBefore, now.Add(-time.Hour)),
		NotAfter:              orTime(s.NotAfter, now.Add(24*time.Hour)),
		BasicConstraintsValid: true,
		IsCA:                  s.CA,
	}
	for _, n := range s.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if s.CA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = s.ExtKeyUsage
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	parent, signer := tmpl, key
	if s.Issuer != nil {
		parent, signer = s.Issuer.Cert, s.Issuer.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatalf("issue %q: %v", s.CN, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.Block{Type: "EC PRIVATE KEY"}
	if ec, ok := key.(*ecdsa.PrivateKey); ok {
		keyPEM.Bytes, err = x509.MarshalECPrivateKey(ec)
	} else {
		keyPEM.Type = "PRIVATE KEY"
		keyPEM.Bytes, err = x509.MarshalPKCS8PrivateKey(key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Pair{Cert: cert, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&keyPEM)}
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

// Root is a self-signed CA.
func Root(t testing.TB, cn string) *Pair {
	t.Helper()
	return New(t, Spec{CN: cn, CA: true})
}

// Intermediate is a CA issued by issuer.
func Intermediate(t testing.TB, issuer *Pair, cn string) *Pair {
	t.Helper()
	return New(t, Spec{CN: cn, CA: true, Issuer: issuer})
}

// Leaf is a server certificate for names (DNS names or IPs; the first is
// also its common name) issued by issuer, or self-signed when issuer is nil.
func Leaf(t testing.TB, issuer *Pair, names ...string) *Pair {
	t.Helper()
	if len(names) == 0 {
		t.Fatal("testpki.Leaf: a leaf needs a name")
	}
	return New(t, Spec{CN: names[0], Names: names, Issuer: issuer})
}

// Pin is p's SPKI pin, as `kubectl securekapi pin` prints it.
func (p *Pair) Pin() pinning.Pin { return pinning.PinForSPKI(p.Cert.RawSubjectPublicKeyInfo) }

// TLSCertificate is p with its key, followed by the issuers a server
// sends along (leaf first, as on the wire).
func (p *Pair) TLSCertificate(issuers ...*Pair) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
	for _, i := range issuers {
		c.Certificate = append(c.Certificate, i.Cert.Raw)
	}
	return c
}

// Pool is a certificate pool trusting pairs.
func Pool(pairs ...*Pair) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, p := range pairs {
		pool.AddCert(p.Cert)
	}
	return pool
}

// NewTLSServer serves handler over TLS on loopback, presenting leaf and
// then issuers; it closes when the test ends. Handshake errors are not
// logged: many tests provoke them, and the client reports them.
func NewTLSServer(t testing.TB, handler http.Handler, leaf *Pair, issuers ...*Pair) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLSCertificate(issuers...)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// WritePEM writes the PEM blocks, one after another, to a file name in a
// new temporary directory and returns its path.
func WritePEM(t testing.TB, name string, blocks ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var data []byte
	for _, b := range blocks {
		data = append(data, b...)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
