package trust

import (
	"fmt"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Kind classifies why an endpoint cannot be trusted, so callers and tests can
// react to the reason rather than parse messages.
type Kind int

const (
	// KindUnreachable: no TCP connection or no TLS handshake, in time.
	KindUnreachable Kind = iota + 1
	// KindUnknownAuthority: the chain does not lead to a trusted root.
	KindUnknownAuthority
	// KindSelfSigned: the leaf is self-signed and no pin vouches for it.
	KindSelfSigned
	// KindExpired: a certificate in the chain is past its NotAfter.
	KindExpired
	// KindNotYetValid: a certificate in the chain is before its NotBefore.
	KindNotYetValid
	// KindHostnameMismatch: the leaf is not valid for the server name.
	KindHostnameMismatch
	// KindPinMismatch: the chain verifies, but no certificate in it is pinned.
	KindPinMismatch
	// KindNoCertificates: the endpoint presented no certificate.
	KindNoCertificates
	// KindInvalidInput: the caller's URL, policy or certificates are unusable.
	KindInvalidInput
	// KindInvalidCertificate: the chain is signed by a trusted root but is
	// unfit for a TLS server, e.g. wrong key usage or a CA that may not sign.
	KindInvalidCertificate
)

var kindNames = map[Kind]string{
	KindUnreachable:        "unreachable",
	KindUnknownAuthority:   "unknown authority",
	KindSelfSigned:         "self-signed",
	KindExpired:            "expired",
	KindNotYetValid:        "not yet valid",
	KindHostnameMismatch:   "hostname mismatch",
	KindPinMismatch:        "pin mismatch",
	KindNoCertificates:     "no certificates",
	KindInvalidInput:       "invalid input",
	KindInvalidCertificate: "invalid certificate",
}

func (k Kind) String() string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error says why an endpoint's chain is not trusted and what to do about it.
type Error struct {
	Kind Kind
	// Endpoint is the URL being checked; empty when Verify ran on its own.
	Endpoint string
	// ServerName is the name the certificate had to be valid for.
	ServerName string
	// Expected are the pins of the policy.
	Expected []pinning.Pin
	// Presented are the pins of the presented chain, leaf first.
	Presented []pinning.Pin
	// Chain describes the presented chain, leaf first; for a pin mismatch it
	// ends with the roots the chain verified to, which the server may not send.
	Chain []CertSummary
	// Cert is the certificate the error is about: the expired one, or the
	// leaf whose names do not match. Nil when no single certificate is.
	Cert *CertSummary
	// Now is the verification time the dates were compared with.
	Now time.Time
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	switch e.Kind {
	case KindUnreachable:
		return fmt.Sprintf("cannot reach %s: %v; check the URL, that the endpoint is up, and your network (VPN, proxy, firewall)", e.where(), e.Err)
	case KindUnknownAuthority:
		if len(e.Expected) > 0 {
			return fmt.Sprintf("%s presents a certificate issued by %q, which no trusted CA signed%s, and it does not send a certificate with the pinned key (%s); get the CA bundle the platform owner publishes (`add` and `pin` take it as --ca-file, a profile carries it as caData)", e.where(), e.leafIssuer(), e.detail(), joinPins(e.Expected))
		}
		return fmt.Sprintf("%s presents a certificate issued by %q, which no trusted CA signed%s; get the CA bundle or the pin the platform owner publishes (`add` and `pin` take them as --ca-file and --pin, a profile carries them as caData and pins)", e.where(), e.leafIssuer(), e.detail())
	case KindSelfSigned:
		if len(e.Expected) > 0 {
			return fmt.Sprintf("%s presents a self-signed certificate %q whose pin %s is not the pinned %s; if the platform owner re-keyed it, confirm the new pin with them out of band and pass --pin with it", e.where(), e.leafSubject(), e.leafPin(), joinPins(e.Expected))
		}
		return fmt.Sprintf("%s presents a self-signed certificate %q (pin %s) that no pin vouches for; if you trust it, confirm that pin with the platform owner out of band and pass --pin %s", e.where(), e.leafSubject(), e.leafPin(), e.leafPin())
	case KindExpired:
		return fmt.Sprintf("certificate %q presented by %s expired at %s (now %s); ask the platform owner to renew it, or fix this machine's clock if it is wrong", e.certSubject(), e.where(), e.certTime(func(c *CertSummary) time.Time { return c.NotAfter }), formatTime(e.Now))
	case KindNotYetValid:
		return fmt.Sprintf("certificate %q presented by %s is not valid before %s (now %s); check this machine's clock, or ask the platform owner why the certificate is dated in the future", e.certSubject(), e.where(), e.certTime(func(c *CertSummary) time.Time { return c.NotBefore }), formatTime(e.Now))
	case KindHostnameMismatch:
		return fmt.Sprintf("certificate presented by %s is valid for %s, not for %q; use a URL with one of those names, or pass --tls-server-name with one of them if you reach the endpoint by another address", e.where(), e.certNames(), e.ServerName)
	case KindPinMismatch:
		return e.pinMismatchMessage()
	case KindNoCertificates:
		return fmt.Sprintf("%s presented no certificate; check the URL points at the TLS endpoint", e.where())
	case KindInvalidInput:
		return fmt.Sprintf("cannot check %s: %v", e.where(), e.Err)
	case KindInvalidCertificate:
		return fmt.Sprintf("the certificate chain presented by %s cannot be used for a TLS server: %v; ask the platform owner to fix the endpoint certificate", e.where(), e.Err)
	}
	return fmt.Sprintf("%s: %v: %v", e.where(), e.Kind, e.Err)
}

func (e *Error) pinMismatchMessage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s presents a valid certificate chain, but none of its keys is pinned\n", e.where())
	fmt.Fprintf(&b, "  expected one of: %s\n  presented:\n", joinPins(e.Expected))
	for _, c := range e.Chain {
		fmt.Fprintf(&b, "    %s  %s\n", c.Pin, c.Subject)
	}
	fmt.Fprintf(&b, "If the platform owner rotated the CA, get the new pin from them or run `kubectl securekapi pin %s` and compare out of band; otherwise something may be intercepting the connection, so do not use it", e.urlOr("URL"))
	return b.String()
}

// where names the endpoint for a message.
func (e *Error) where() string {
	switch {
	case e.Endpoint != "":
		return e.Endpoint
	case e.ServerName != "":
		return "server " + e.ServerName
	}
	return "the endpoint"
}

func (e *Error) urlOr(placeholder string) string {
	if e.Endpoint != "" {
		return e.Endpoint
	}
	return placeholder
}

// detail adds the verifier's own explanation when there is one.
func (e *Error) detail() string {
	if e.Err == nil {
		return ""
	}
	return fmt.Sprintf(" (%v)", e.Err)
}

func (e *Error) leaf() *CertSummary {
	if len(e.Chain) == 0 {
		return nil
	}
	return &e.Chain[0]
}

func (e *Error) leafSubject() string {
	if l := e.leaf(); l != nil {
		return l.Subject
	}
	return "?"
}

func (e *Error) leafIssuer() string {
	if l := e.leaf(); l != nil {
		return l.Issuer
	}
	return "?"
}

func (e *Error) leafPin() string {
	if l := e.leaf(); l != nil {
		return string(l.Pin)
	}
	return pinFormat
}

func (e *Error) certSubject() string {
	if e.Cert != nil {
		return e.Cert.Subject
	}
	return e.leafSubject()
}

func (e *Error) certTime(field func(*CertSummary) time.Time) string {
	c := e.Cert
	if c == nil {
		c = e.leaf()
	}
	if c == nil {
		return "?"
	}
	return formatTime(field(c))
}

func (e *Error) certNames() string {
	c := e.Cert
	if c == nil {
		c = e.leaf()
	}
	if c == nil {
		return "no names"
	}
	names := append(append([]string{}, c.DNSNames...), c.IPs...)
	if len(names) == 0 {
		return "no names (it has no subject alternative names)"
	}
	return strings.Join(names, ", ")
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

func joinPins(pins []pinning.Pin) string {
	s := make([]string, len(pins))
	for i, p := range pins {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
