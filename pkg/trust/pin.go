package trust

import (
	"crypto/x509"
	"slices"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

const pinFormat = pinning.Format

// PinFor returns the pin of c's public key.
func PinFor(c *x509.Certificate) pinning.Pin { return pinning.PinForSPKI(c.RawSubjectPublicKeyInfo) }

// ChainMatchesPins reports the pin of the first certificate in certs whose
// key is one of pins.
func ChainMatchesPins(certs []*x509.Certificate, pins []pinning.Pin) (pinning.Pin, bool) {
	for _, c := range certs {
		if p := PinFor(c); slices.Contains(pins, p) {
			return p, true
		}
	}
	return "", false
}

// pinsOf returns the pin of each certificate, in order.
func pinsOf(certs []*x509.Certificate) []pinning.Pin {
	pins := make([]pinning.Pin, len(certs))
	for i, c := range certs {
		pins[i] = PinFor(c)
	}
	return pins
}
