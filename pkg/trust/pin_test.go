package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// pinVector is a certificate whose pin was computed independently, the way
// the kubeadm docs compute --discovery-token-ca-cert-hash:
//
//	openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform der | sha256sum
const pinVector = `-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUPVSoqPWQ+mM9zVgwyassIiZTweUwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwac2VjdXJla2FwaSBwaW4gdGVzdCB2ZWN0b3IwIBcNMjYxMTIz
MDc0NjM0WhgPMjEyNjEwMzAwNzQ2MzRaMCUxIzAhBgNVBAMMGnNlY3VyZWthcGkg
cGluIHRlc3QgdmVjdG9yMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiN52cnbt
hAS//Sm1tl+rdkOdxE2ZRx2ihyNOmdm6l9aRGXalR+G6gmTOZ7mtU1DpSApQ8DzO
LOOOqoho79hqZqNTMFEwHQYDVR0OBBYEFI9ZgrzL+ajlpKASgUTJaxpzVVj1MB8G
A1UdIwQYMBaAFI9ZgrzL+ajlpKASgUTJaxpzVVj1MA8GA1UdEwEB/wQFMAMBAf8w
CgYIKoZIzj0EAwIDSAAwRQIhAIOyGW6rMTYwzTumK4KcWOyBy+GfYlv5Ys8ByujY
2zSSAiBobDdF3NkSA/kUBKbuiJYOK1ecPy7tWc9h4CQw+mIyjQ==
-----END CERTIFICATE-----
`

const pinVectorPin = pinning.Pin("sha256:83e02d5ca885f0d9baf88ab58e9fd22e9f36d7835d0a0bfd3ee2b92d884dee28")

// kubeadmPinFormat is --discovery-token-ca-cert-hash's "sha256:<hex>",
// in the lower case kubeadm prints.
var kubeadmPinFormat = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestPinForMatchesKubeadm(t *testing.T) {
	certs, err := ParsePEMCertificates([]byte(pinVector))
	if err != nil {
		t.Fatal(err)
	}
	if got := PinFor(certs[0]); got != pinVectorPin {
		t.Errorf("PinFor = %s, want %s (openssl)", got, pinVectorPin)
	}

	c := newRoot(t, "Any CA").Cert
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	kubeadm := "sha256:" + hex.EncodeToString(sum[:])
	if got := PinFor(c); string(got) != kubeadm || !kubeadmPinFormat.MatchString(string(got)) {
		t.Errorf("PinFor = %s, want %s in kubeadm's format", got, kubeadm)
	}
}

func TestPinSurvivesReissueButNotRekey(t *testing.T) {
	ca := newRoot(t, "Corp Root")
	renewed := issue(t, testpki.Spec{CN: "Corp Root (renewed)", CA: true, Key: ca.Key})
	rekeyed := newRoot(t, "Corp Root")
	if PinFor(ca.Cert) != PinFor(renewed.Cert) {
		t.Error("re-issuing a certificate for the same key changed its pin")
	}
	if PinFor(ca.Cert) == PinFor(rekeyed.Cert) {
		t.Error("a new key kept the old pin")
	}
}

func TestParsePin(t *testing.T) {
	canonical := string(pinVectorPin)
	hexPart := strings.TrimPrefix(canonical, "sha256:")
	tests := []struct {
		in      string
		want    pinning.Pin
		wantErr string
	}{
		{in: canonical, want: pinVectorPin},
		{in: "  " + canonical + "\n", want: pinVectorPin},
		{in: "sha256:" + strings.ToUpper(hexPart), want: pinVectorPin},
		{in: "SHA256:" + hexPart, want: pinVectorPin},
		{in: "", wantErr: "empty pin"},
		{in: hexPart, wantErr: "did you mean " + canonical},
		{in: "sha1:" + hexPart[:40], wantErr: "only sha256"},
		{in: "sha512:" + hexPart, wantErr: "only sha256"},
		{in: "sha256:" + hexPart[:63], wantErr: "63 characters, want 64"},
		{in: "sha256:" + hexPart + "00", wantErr: "66 characters, want 64"},
		{in: "sha256:" + hexPart[:63] + "g", wantErr: "character 64 ('g') is not a hex digit"},
		{in: "sha256:" + hexPart[:62] + ":0", wantErr: "not a hex digit"},
		{in: "sha256: " + hexPart, wantErr: "65 characters"},
		{in: "not a pin", wantErr: "expected sha256:<64 hex characters>"},
	}
	for _, tt := range tests {
		got, err := pinning.ParsePin(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePin(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParsePins(t *testing.T) {
	pins, err := pinning.ParsePins([]string{string(pinVectorPin), strings.ToUpper(string(pinVectorPin))})
	if err != nil || len(pins) != 2 || pins[1] != pinVectorPin {
		t.Errorf("ParsePins = %v, %v", pins, err)
	}
	if _, err := pinning.ParsePins([]string{string(pinVectorPin), "sha1:abc"}); err == nil || !strings.Contains(err.Error(), "sha1") {
		t.Errorf("ParsePins with a bad pin: %v", err)
	}
	if pins, err := pinning.ParsePins(nil); err != nil || len(pins) != 0 {
		t.Errorf("ParsePins(nil) = %v, %v", pins, err)
	}
}

func TestChainMatchesPins(t *testing.T) {
	root, other := newRoot(t, "Root"), newRoot(t, "Other")
	inter := newIntermediate(t, "Issuing CA", root)
	chain := certsOf(inter, root)

	if pin, ok := ChainMatchesPins(chain, []pinning.Pin{PinFor(other.Cert), PinFor(root.Cert)}); !ok || pin != PinFor(root.Cert) {
		t.Errorf("got %q, %v; want the root's pin", pin, ok)
	}
	if _, ok := ChainMatchesPins(chain, []pinning.Pin{PinFor(other.Cert)}); ok {
		t.Error("matched a pin that is not in the chain")
	}
	if _, ok := ChainMatchesPins(chain, nil); ok {
		t.Error("matched with no pins")
	}
}

func FuzzParsePin(f *testing.F) {
	for _, seed := range []string{
		string(pinVectorPin), strings.ToUpper(string(pinVectorPin)), " sha256:" + strings.Repeat("A", 64) + "\t",
		"", "sha256:", "sha1:00", "sha256:" + strings.Repeat("g", 64), ":", "sha256::", strings.Repeat("0", 64),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pinning.ParsePin(s)
		if err != nil {
			if p != "" {
				t.Errorf("ParsePin(%q) returned %q with error %v", s, p, err)
			}
			return
		}
		if !kubeadmPinFormat.MatchString(string(p)) {
			t.Errorf("ParsePin(%q) = %q, not canonical", s, p)
		}
		again, err := pinning.ParsePin(string(p))
		if err != nil || again != p {
			t.Errorf("ParsePin(%q) = %q, %v; want it to re-parse to itself", p, again, err)
		}
	})
}
