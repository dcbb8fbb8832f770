package trust

import (
	"crypto/x509"
	"slices"
	"time"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// ParsePEMCertificates reads a PEM bundle of certificates only; see
// pinning.ParsePEMCertificates.
func ParsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	return pinning.ParsePEMCertificates(data)
}

// EncodePEM writes certs as consecutive CERTIFICATE blocks.
func EncodePEM(certs []*x509.Certificate) []byte { return pinning.EncodePEM(certs) }

// CertSummary is what a person needs to recognise a certificate and decide
// whether to trust it: who it is for, who issued it, when, and its pin.
type CertSummary struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	Pin       Pin       `json:"pin"`
	IsCA      bool      `json:"isCA"`
	DNSNames  []string  `json:"dnsNames,omitempty"`
	IPs       []string  `json:"ips,omitempty"`
}

// Summarize describes each certificate, in order.
func Summarize(certs []*x509.Certificate) []CertSummary {
	out := make([]CertSummary, len(certs))
	for i, c := range certs {
		out[i] = summarize(c)
	}
	return out
}

func summarize(c *x509.Certificate) CertSummary {
	s := CertSummary{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore,
		NotAfter:  c.NotAfter,
		Pin:       PinFor(c),
		IsCA:      c.IsCA,
		DNSNames:  slices.Clone(c.DNSNames),
	}
	for _, ip := range c.IPAddresses {
		s.IPs = append(s.IPs, ip.String())
	}
	return s
}
