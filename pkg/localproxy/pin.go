package localproxy

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

const pinPrefix = "sha256:"

// pinSet holds SHA-256 digests of SubjectPublicKeyInfo, the format kubeadm
// uses for --discovery-token-ca-cert-hash.
type pinSet [][sha256.Size]byte

func parsePins(pins []string) (pinSet, error) {
	set := make(pinSet, 0, len(pins))
	for _, p := range pins {
		digest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(p)), pinPrefix)
		if !ok {
			return nil, fmt.Errorf("pin %q must start with %q", p, pinPrefix)
		}
		raw, err := hex.DecodeString(digest)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("pin %q must be %q followed by %d hex digits", p, pinPrefix, 2*sha256.Size)
		}
		set = append(set, [sha256.Size]byte(raw))
	}
	return set, nil
}

func spkiDigest(cert *x509.Certificate) [sha256.Size]byte {
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo)
}

func formatPin(d [sha256.Size]byte) string {
	return pinPrefix + hex.EncodeToString(d[:])
}

func (set pinSet) matches(cert *x509.Certificate) bool {
	d := spkiDigest(cert)
	for _, p := range set {
		if p == d {
			return true
		}
	}
	return false
}

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

// verifyConnection runs after normal chain verification, so pins narrow
// trust further and never replace it.
func (set pinSet) verifyConnection(cs tls.ConnectionState) error {
	for _, chain := range cs.VerifiedChains {
		for _, cert := range chain {
			if set.matches(cert) {
				return nil
			}
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
		e.presented = append(e.presented, fmt.Sprintf("%s (%s)", formatPin(spkiDigest(cert)), cert.Subject))
	}
	for _, p := range set {
		e.expected = append(e.expected, formatPin(p))
	}
	return e
}
