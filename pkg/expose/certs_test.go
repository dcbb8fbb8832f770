package expose

import (
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
)

const certHost = "kapi.example.com"

// TestCheckTLSSecretWarnings: each thing that would fail a third party's
// check (another name, outside the dates, no chain) is named, and a good
// chain gets no warning.
func TestCheckTLSSecretWarnings(t *testing.T) {
	now := time.Now()
	ca := testpki.Root(t, "enterprise")
	chain := func(p *testpki.Pair) []byte { return append(append([]byte{}, p.CertPEM...), ca.CertPEM...) }
	dated := func(from, to time.Time) *testpki.Pair {
		return testpki.New(t, testpki.Spec{CN: certHost, Names: []string{certHost}, Issuer: ca, NotBefore: from, NotAfter: to})
	}
	good := testpki.Leaf(t, ca, certHost)
	other := testpki.Leaf(t, ca, "other.example.com")
	expired := dated(now.Add(-48*time.Hour), now.Add(-time.Hour))
	early := dated(now.Add(time.Hour), now.Add(48*time.Hour))
	for _, c := range []struct {
		name string
		crt  []byte
		pair *testpki.Pair
		want string // "" for no warning
	}{
		{"good chain", chain(good), good, ""},
		{"another name", chain(other), other, "is not valid for " + certHost + " (it names other.example.com)"},
		{"expired", chain(expired), expired, "expired on " + expired.Cert.NotAfter.Format(time.DateOnly) + ": renew it"},
		{"not yet valid", chain(early), early, "is not valid before " + early.Cert.NotBefore.Format(time.DateOnly)},
		{"leaf only", good.CertPEM, good, "holds only the leaf certificate: add the issuing CA chain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := CheckTLSSecret(TLSSecret{Namespace: "certs", Name: "kapi", Type: "kubernetes.io/tls",
				Data: map[string][]byte{"tls.crt": c.crt, "tls.key": c.pair.KeyPEM}}, certHost, now)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == "" && len(w) != 0:
				t.Errorf("warnings %q, want none", w)
			case c.want != "" && (len(w) != 1 || !strings.Contains(w[0], c.want) || !strings.Contains(w[0], "TLS secret certs/kapi")):
				t.Errorf("warnings %q, want one about TLS secret certs/kapi saying %q", w, c.want)
			}
		})
	}
}

// TestCheckTLSSecretRefusesWhatProxiesWillNotServe: another type, a
// missing half, or a key that is not the certificate's is an error that
// names the kubectl command to recreate the secret.
func TestCheckTLSSecretRefusesWhatProxiesWillNotServe(t *testing.T) {
	ca := testpki.Root(t, "enterprise")
	good := testpki.Leaf(t, ca, certHost)
	other := testpki.Leaf(t, ca, "other.example.com")
	for _, c := range []struct {
		name, typ string
		data      map[string][]byte
		want      string
	}{
		{"opaque", "Opaque", map[string][]byte{"tls.crt": good.CertPEM, "tls.key": good.KeyPEM}, `is of type "Opaque", not kubernetes.io/tls`},
		{"no key", "kubernetes.io/tls", map[string][]byte{"tls.crt": good.CertPEM}, "lacks tls.crt or tls.key"},
		{"not a certificate", "kubernetes.io/tls", map[string][]byte{"tls.crt": []byte("not a certificate"), "tls.key": good.KeyPEM}, "does not hold a usable certificate and key"},
		{"another key", "kubernetes.io/tls", map[string][]byte{"tls.crt": good.CertPEM, "tls.key": other.KeyPEM}, "does not hold a usable certificate and key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckTLSSecret(TLSSecret{Namespace: "certs", Name: "kapi", Type: c.typ, Data: c.data}, certHost, time.Now())
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), CreateTLSSecretCommand("certs", "kapi")) {
				t.Errorf("err = %v, want %q and the command to recreate it", err, c.want)
			}
		})
	}
}

// TestCheckCertFile: haproxy's crt file must hold the chain and its key;
// its certificate gets the same warnings as a secret's.
func TestCheckCertFile(t *testing.T) {
	ca := testpki.Root(t, "enterprise")
	good := testpki.Leaf(t, ca, certHost)
	whole := testpki.WritePEM(t, "kapi.pem", good.CertPEM, ca.CertPEM, good.KeyPEM)
	if w, err := CheckCertFile(whole, certHost, time.Now()); err != nil || len(w) != 0 {
		t.Errorf("chain and key: %q, %v; want no warning", w, err)
	}
	if w, err := CheckCertFile(whole, "elsewhere.example.com", time.Now()); err != nil || len(w) != 1 || !strings.Contains(w[0], "is not valid for elsewhere.example.com") {
		t.Errorf("another host: %q, %v; want the name warning", w, err)
	}
	noKey := testpki.WritePEM(t, "kapi.pem", good.CertPEM, ca.CertPEM)
	if _, err := CheckCertFile(noKey, certHost, time.Now()); err == nil || !strings.Contains(err.Error(), "its private key, in PEM") {
		t.Errorf("no key: %v", err)
	}
	if _, err := CheckCertFile(noKey+".missing", certHost, time.Now()); err == nil || !strings.Contains(err.Error(), "--cert-file") {
		t.Errorf("missing file: %v", err)
	}
}
