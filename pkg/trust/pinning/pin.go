// Package pinning holds what a pinned binding is made of and what the exec
// credential path checks on every kubectl call: SPKI pins, PEM CA data and
// the endpoint rule (address, and the name the certificate must be valid
// for). It links no crypto/tls and no crypto/x509, so the small
// kubectl-securekapi program pays for neither; package trust, which fetches
// and verifies chains, re-exports these names for the full CLI and adds
// the crypto/x509 side.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package pinning

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Pin is an SPKI pin in kubeadm's --discovery-token-ca-cert-hash format:
// "sha256:" followed by the 64 lowercase hex characters of the SHA-256 of a
// certificate's DER-encoded SubjectPublicKeyInfo. Pinning the key rather than
// the certificate keeps a pin valid when its CA certificate is re-issued.
type Pin string

const (
	pinPrefix    = "sha256:"
	pinHexLength = 2 * sha256.Size
)

// Format is how a pin is written, for messages that ask for one.
const Format = "sha256:<64 hex characters>"

// PinForSPKI returns the pin of a DER SubjectPublicKeyInfo.
func PinForSPKI(spki []byte) Pin {
	sum := sha256.Sum256(spki)
	return Pin(pinPrefix + hex.EncodeToString(sum[:]))
}

// ParsePin reads a pin as a user typed or pasted it: surrounding space is
// ignored and upper-case hex (or "SHA256:", which kubeadm accepts too) is
// normalized to the canonical lower-case form.
func ParsePin(s string) (Pin, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("empty pin: expected %s", Format)
	}
	algorithm, value, found := strings.Cut(s, ":")
	if !found {
		return "", missingPrefixError(s)
	}
	if !strings.EqualFold(algorithm, "sha256") {
		return "", fmt.Errorf("pin %q uses %q: only sha256 pins are supported; expected %s (`kubectl securekapi pin URL` prints it)", s, algorithm, Format)
	}
	if err := checkPinHex(value); err != nil {
		return "", fmt.Errorf("pin %q: %v; expected %s", s, err, Format)
	}
	return Pin(pinPrefix + strings.ToLower(value)), nil
}

// missingPrefixError suggests the fix when the user pasted a bare hash.
func missingPrefixError(s string) error {
	if checkPinHex(s) == nil {
		return fmt.Errorf("pin %q lacks the algorithm prefix: did you mean %s%s?", s, pinPrefix, strings.ToLower(s))
	}
	return fmt.Errorf("pin %q is not a pin: expected %s", s, Format)
}

func checkPinHex(value string) error {
	if len(value) != pinHexLength {
		return fmt.Errorf("the hash has %d characters, want %d", len(value), pinHexLength)
	}
	for i := 0; i < len(value); i++ {
		if !isHexDigit(value[i]) {
			return fmt.Errorf("character %d (%q) is not a hex digit", i+1, value[i])
		}
	}
	return nil
}

func isHexDigit(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// ParsePins parses each of ss with ParsePin, stopping at the first bad one.
func ParsePins(ss []string) ([]Pin, error) {
	pins := make([]Pin, 0, len(ss))
	for _, s := range ss {
		p, err := ParsePin(s)
		if err != nil {
			return nil, err
		}
		pins = append(pins, p)
	}
	return pins, nil
}
