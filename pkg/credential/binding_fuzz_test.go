package credential

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

const fuzzBoundServer = "https://kapi.example.com:6443"

// FuzzBindingCheck: the cluster info kubectl passes (server, tls-server-name,
// CA data) comes from a kubeconfig an attacker may have edited. Whenever
// Check releases a token:
//   - TLS verification is on;
//   - the URL kubectl will dial (client-go's own parsing of the server) is
//     the bound scheme, host and port, and the name it verifies the
//     certificate for (tls-server-name, else that host) is the bound host;
//   - every certificate kubectl will trust from the CA data (what
//     x509.CertPool.AppendCertsFromPEM accepts, as client-go loads it) has a
//     pinned key, and there is at least one.
//
// The fuzzer picks real certificates to splice into the CA data (the pinned
// CA, a second pinned CA, an attacker's CA, the pinned CA behind a PEM
// header) so it reaches valid bundles, not only garbage.
func FuzzBindingCheck(f *testing.F) {
	pinned := testpki.Root(f, "Enterprise CA")
	pinnedPEM := pinned.CertPEM
	second := testpki.Root(f, "Enterprise CA 2")
	secondPEM := second.CertPEM
	roguePEM := testpki.Root(f, "Attacker CA").CertPEM
	block, _ := pem.Decode(pinnedPEM)
	block.Headers = map[string]string{"Proc-Type": "4,ENCRYPTED"}
	pieces := [][]byte{pinnedPEM, secondPEM, roguePEM, pem.EncodeToMemory(block)}

	const (
		usePinned = 1 << iota
		useSecond
		useRogue
		useHeadered
		reverse
		bothPins
	)
	for _, seed := range []struct {
		ca      string
		certs   uint8
		server  string
		sni     string
		skipTLS bool
	}{
		{"", usePinned, fuzzBoundServer, "", false},
		{"", usePinned, "HTTPS://KAPI.example.com:6443/", "kapi.example.com", false},
		{"", usePinned | useRogue, fuzzBoundServer, "", false},
		{"", usePinned | useRogue | reverse, fuzzBoundServer, "", false},
		{"", usePinned | useSecond | bothPins, fuzzBoundServer, "", false},
		{"", usePinned | useSecond, fuzzBoundServer, "", false},
		{"", useHeadered, fuzzBoundServer, "", false},
		{"", usePinned | useHeadered, fuzzBoundServer, "", false},
		{"\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", usePinned, fuzzBoundServer, "", false},
		{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", usePinned, fuzzBoundServer, "", false},
		{"comment between blocks\n", usePinned, fuzzBoundServer, "", false},
		{"", usePinned, "https://kapi.example.com", "", false},
		{"", usePinned, "kapi.example.com:6443", "", false},
		{"", usePinned, "https://kapi.example.com:6443@evil.example.com", "", false},
		{"", usePinned, "https://evil.example.com:6443", "kapi.example.com", false},
		{"", usePinned, " https://kapi.example.com:6443", "", false},
		{"", usePinned, fuzzBoundServer, "", true},
	} {
		f.Add([]byte(seed.ca), seed.certs, seed.server, seed.sni, seed.skipTLS)
	}
	f.Fuzz(func(t *testing.T, junk []byte, certs uint8, server, sni string, skipTLS bool) {
		var chosen [][]byte
		for i, p := range pieces {
			if certs&(1<<i) != 0 {
				chosen = append(chosen, p)
			}
		}
		if certs&reverse != 0 && len(chosen) > 1 {
			chosen = append(chosen[1:len(chosen):len(chosen)], chosen[0])
		}
		caData := append(bytes.Join(chosen, nil), junk...)
		pins := []pinning.Pin{trust.PinFor(pinned.Cert)}
		if certs&bothPins != 0 {
			pins = append(pins, trust.PinFor(second.Cert))
		}
		c := &binding.Cluster{Server: server, TLSServerName: sni, CAData: caData, InsecureSkipTLSVerify: skipTLS}
		err := binding.Binding{Server: fuzzBoundServer, Pins: pins}.Check(c)
		if err2 := (binding.Binding{Server: fuzzBoundServer, Pins: pins}).Check(c); (err == nil) != (err2 == nil) {
			t.Fatalf("Check is not deterministic: %v, then %v", err, err2)
		}
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("refused without saying why")
			}
			return
		}
		if skipTLS {
			t.Fatal("released a token to a cluster with insecure-skip-tls-verify")
		}
		if u, _, err := rest.DefaultServerURL(server, "", schema.GroupVersion{}, true); err == nil {
			if !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(u.Hostname(), "kapi.example.com") || u.Port() != "6443" {
				t.Fatalf("released a token for server %q, which kubectl dials as %s", server, u)
			}
			if name := cmp.Or(sni, u.Hostname()); !strings.EqualFold(name, "kapi.example.com") {
				t.Fatalf("released a token although kubectl would verify the certificate for %q (server %q, tls-server-name %q)", name, server, sni)
			}
		}
		trusted := certsKubectlTrusts(caData)
		if len(trusted) == 0 {
			t.Fatalf("released a token although kubectl would trust no certificate from the CA data:\n%s", caData)
		}
		for i, cert := range trusted {
			if _, ok := trust.ChainMatchesPins([]*x509.Certificate{cert}, pins); !ok {
				t.Fatalf("released a token although kubectl would also trust certificate %d (%s), which matches no pin", i+1, cert.Subject)
			}
		}
	})
}

// certsKubectlTrusts lists the certificates x509.CertPool.AppendCertsFromPEM
// adds from data (client-go builds its root pool with it), following that
// function's rules: CERTIFICATE blocks without headers that parse; anything
// else is skipped.
func certsKubectlTrusts(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for len(data) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
			continue
		}
		if cert, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, cert)
		}
	}
	return out
}
