package localproxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// pinMismatchError says which keys the gateway presented, so the user can
// compare them with the pins they configured.
type pinMismatchError struct {
	presented []string
	expected  []string
}

func (e *pinMismatchError) Error() string {
	return fmt.Sprintf("pin mismatch: presented %s, expected %s; check that this is the right gateway or update the pins",
		strings.Join(e.presented, ", "), strings.Join(e.expected, ", "))
}

// verifyPins runs after normal chain verification, so pins narrow trust
// further and never replace it: some certificate of a verified chain must
// carry a pinned key (trust.ChainMatchesPins, the one pin matcher).
func verifyPins(pins []pinning.Pin, cs tls.ConnectionState) error {
	for _, chain := range cs.VerifiedChains {
		if _, ok := trust.ChainMatchesPins(chain, pins); ok {
			return nil
		}
	}
	e := &pinMismatchError{}
	var chain []*x509.Certificate
	if len(cs.VerifiedChains) > 0 {
		chain = cs.VerifiedChains[0]
	} else {
		chain = cs.PeerCertificates
	}
	for _, cert := range chain {
		e.presented = append(e.presented, fmt.Sprintf("%s (%s)", trust.PinFor(cert), cert.Subject))
	}
	for _, p := range pins {
		e.expected = append(e.expected, string(p))
	}
	return e
}
