package trust

import (
	"crypto/x509"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Pin is an SPKI pin in kubeadm's "sha256:<hex>" format; see pinning.Pin.
// The pin rules live in package pinning, which links no crypto/tls, so the
// exec credential path can check pins without paying for TLS.
type Pin = pinning.Pin

const pinFormat = pinning.Format

// PinFor returns the pin of c's public key.
func PinFor(c *x509.Certificate) Pin { return pinning.PinFor(c) }

// ParsePin reads a pin as a user typed or pasted it; see pinning.ParsePin.
func ParsePin(s string) (Pin, error) { return pinning.ParsePin(s) }

// ParsePins parses each of ss with ParsePin, stopping at the first bad one.
func ParsePins(ss []string) ([]Pin, error) { return pinning.ParsePins(ss) }

// ChainMatchesPins reports the pin of the first certificate in certs whose
// key is one of pins; see pinning.ChainMatchesPins.
func ChainMatchesPins(certs []*x509.Certificate, pins []Pin) (Pin, bool) {
	return pinning.ChainMatchesPins(certs, pins)
}

// pinsOf returns the pin of each certificate, in order.
func pinsOf(certs []*x509.Certificate) []Pin {
	pins := make([]Pin, len(certs))
	for i, c := range certs {
		pins[i] = PinFor(c)
	}
	return pins
}
