package pinning

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// The pin check reads certificates without crypto/x509 (see
// PEMCertificate). These tests hold it to crypto/x509: for every
// certificate crypto/x509 parses, the same key (so the same pin) and the
// same subject text.

// x509Pin and makeCert stand apart from internal/testpki on purpose:
// testpki computes pins with this package, so its own tests compute them
// independently, and they need subjects, serials and key types (Ed25519,
// P-384) that the shared fixtures have no reason to offer.

func x509Pin(c *x509.Certificate) Pin {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return Pin("sha256:" + hex.EncodeToString(sum[:]))
}

func makeCert(t testing.TB, subject pkix.Name, key crypto.Signer, serial *big.Int) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: subject,
		NotBefore: time.Unix(1_700_000_000, 0), NotAfter: time.Unix(1_800_000_000, 0), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func testKeys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"P-256": p256, "P-384": p384, "Ed25519": ed, "RSA-2048": r}
}

func TestCertificateKeyAndSubjectAsCryptoX509(t *testing.T) {
	names := []pkix.Name{
		{CommonName: "Enterprise CA"},
		{CommonName: "Root", Organization: []string{"Example Corp"}, OrganizationalUnit: []string{"Ops", "Security"}, Country: []string{"DE"}},
		{CommonName: "a,b+c\"d\\e<f>g;h", Organization: []string{" lead and trail "}, Locality: []string{"#hash"}},
		{CommonName: "Ünïcødé ✓", Province: []string{"Bayern"}, StreetAddress: []string{"Main St 1"}, PostalCode: []string{"80331"}, SerialNumber: "42"},
		{},
		{CommonName: "with extra", ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Extra CN"}}},
	}
	serials := []*big.Int{big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 150), big.NewInt(255)}
	for keyName, key := range testKeys(t) {
		for i, name := range names {
			der := makeCert(t, name, key, serials[i%len(serials)])
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			spki, subject, err := certificateFields(der)
			if err != nil {
				t.Fatalf("%s %q: %v", keyName, cert.Subject, err)
			}
			if !bytes.Equal(spki, cert.RawSubjectPublicKeyInfo) {
				t.Errorf("%s %q: SubjectPublicKeyInfo differs from crypto/x509's", keyName, cert.Subject)
			}
			if subject != cert.Subject.String() {
				t.Errorf("%s: subject %q, crypto/x509 writes %q", keyName, subject, cert.Subject.String())
			}
		}
	}
}

func TestReadPEMCertificatesPinsAsCryptoX509(t *testing.T) {
	keys := testKeys(t)
	var bundle []byte
	var want []Pin
	for _, name := range []string{"P-256", "RSA-2048", "Ed25519"} {
		der := makeCert(t, pkix.Name{CommonName: name}, keys[name], big.NewInt(7))
		cert, _ := x509.ParseCertificate(der)
		want = append(want, x509Pin(cert))
		bundle = append(bundle, "# "+name+"\n"...)
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	certs, err := ReadPEMCertificates(bundle)
	if err != nil || len(certs) != len(want) {
		t.Fatalf("ReadPEMCertificates = %d certificates, %v", len(certs), err)
	}
	for i, c := range certs {
		if c.Pin != want[i] || c.Index != i+1 || c.Headered {
			t.Errorf("certificate %d: %+v, want pin %s", i+1, c, want[i])
		}
	}
	for name, bad := range map[string][]byte{
		"no PEM":      []byte("garbage"),
		"a key":       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}),
		"garbage DER": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}}),
		"trailing":    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(makeCert(t, pkix.Name{CommonName: "x"}, keys["P-256"], big.NewInt(1)), 0)}),
	} {
		if _, err := ReadPEMCertificates(bad); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}

// FuzzCertificateKey is the property the token binding rests on: whatever
// DER crypto/x509 accepts as a certificate, certificateFields finds the
// same SubjectPublicKeyInfo in it, so a pin check here is a pin check on
// what kubectl trusts.
func FuzzCertificateKey(f *testing.F) {
	for _, key := range testKeys(f) {
		f.Add(makeCert(f, pkix.Name{CommonName: "seed", Organization: []string{"o"}}, key, big.NewInt(3)))
	}
	f.Add([]byte{0x30, 0x81, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		spki, _, err := certificateFields(der)
		cert, xerr := x509.ParseCertificate(der)
		if xerr != nil {
			return
		}
		if err != nil {
			t.Fatalf("crypto/x509 parses a certificate certificateFields refuses: %v", err)
		}
		if !bytes.Equal(spki, cert.RawSubjectPublicKeyInfo) {
			t.Fatalf("different SubjectPublicKeyInfo than crypto/x509's")
		}
	})
}
