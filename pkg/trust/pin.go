package trust

import (
	"crypto/x509"
	"slices"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Pin is an SPKI pin in kubeadm's "sha256:<hex>" format; see pinning.Pin.
// The pin rules live in package pinning, which links no crypto/tls, so the
// exec credential path can check pins without paying for TLS.
type Pin = pinning.Pin

const pinFormat = pinning.Format

// PinFor returns the pin of c's public key.
func PinFor(c *x509.Certificate) Pin { return pinning.PinForSPKI(c.RawSubjectPublicKeyInfo) }

// ParsePin reads a pin as a user typed or pasted it; see pinning.ParsePin.
func ParsePin(s string) (Pin, error) { return pinning.ParsePin(s) }

// ParsePins parses each of ss with ParsePin, stopping at the first bad one.
func ParsePins(ss []string) ([]Pin, error) { return pinning.ParsePins(ss) }

// ChainMatchesPins reports the pin of the first certificate in certs whose
// key is one of pins.
func ChainMatchesPins(certs []*x509.Certificate, pins []Pin) (Pin, bool) {
	for _, c := range certs {
		if p := PinFor(c); slices.Contains(pins, p) {
			return p, true
		}
	}
	return "", false
}

// pinsOf returns the pin of each certificate, in order.
func pinsOf(certs []*x509.Certificate) []Pin {
	pins := make([]Pin, len(certs))
	for i, c := range certs {
		pins[i] = PinFor(c)
	}
	return pins
}
