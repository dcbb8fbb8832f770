package binding

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/execinfo"
	"github.com/securekapi/securekapi/pkg/trust"
)

func selfSignedCA(t *testing.T, name string) (*x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestBindingRefusesWhatTheKubeconfigWasEditedTo: the attacker edits the
// kubeconfig cluster (server, CA, TLS checks); the exec args, which carry the
// binding, stay as `use` wrote them.
func TestBindingRefusesWhatTheKubeconfigWasEditedTo(t *testing.T) {
	pinned, pinnedPEM := selfSignedCA(t, "Enterprise CA")
	_, otherPEM := selfSignedCA(t, "Attacker CA")
	b := Binding{Server: "https://kapi.example.com", Pins: []trust.Pin{trust.PinFor(pinned)}}

	ok := []*execinfo.Cluster{
		{Server: "https://kapi.example.com", CAData: pinnedPEM},
		{Server: "https://KAPI.example.com:443/", CAData: pinnedPEM},
		{Server: "https://kapi.example.com", CAData: append(append([]byte{}, otherPEM...), pinnedPEM...)},
	}
	for _, c := range ok {
		if err := b.Check(c); err != nil {
			t.Errorf("Check(%s) = %v, want ok", c.Server, err)
		}
	}
	refused := map[string]struct {
		cluster *execinfo.Cluster
		want    string
	}{
		"no cluster info":    {nil, "provideClusterInfo"},
		"other server":       {&execinfo.Cluster{Server: "https://evil.example.com", CAData: pinnedPEM}, "bound to https://kapi.example.com"},
		"other port":         {&execinfo.Cluster{Server: "https://kapi.example.com:6443", CAData: pinnedPEM}, "bound to"},
		"plain http":         {&execinfo.Cluster{Server: "http://kapi.example.com", CAData: pinnedPEM}, "bound to"},
		"other CA":           {&execinfo.Cluster{Server: "https://kapi.example.com", CAData: otherPEM}, "matches none of the pinned keys"},
		"system roots":       {&execinfo.Cluster{Server: "https://kapi.example.com"}, "no certificate-authority-data"},
		"TLS checks off":     {&execinfo.Cluster{Server: "https://kapi.example.com", CAData: pinnedPEM, InsecureSkipTLSVerify: true}, "insecure-skip-tls-verify"},
		"unreadable CA data": {&execinfo.Cluster{Server: "https://kapi.example.com", CAData: []byte("garbage")}, "unreadable"},
	}
	for name, tc := range refused {
		err := b.Check(tc.cluster)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check = %v, want an error about %q", name, err, tc.want)
		}
	}
	if err := (Binding{}).Check(ok[0]); err == nil {
		t.Error("an empty binding released a token")
	}
}
