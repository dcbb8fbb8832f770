package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"time"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// ParsePEMCertificates reads a PEM bundle of certificates only, with the
// rules of pinning.ReadPEMCertificates, and parses each with crypto/x509.
func ParsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	blocks, err := pinning.ReadPEMCertificates(data)
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(blocks))
	for i, b := range blocks {
		if certs[i], err = x509.ParseCertificate(b.DER); err != nil {
			return nil, fmt.Errorf("PEM certificate %d: %w", b.Index, err)
		}
	}
	return certs, nil
}

// EncodePEM writes certs as consecutive CERTIFICATE blocks.
func EncodePEM(certs []*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		// Writing to a bytes.Buffer cannot fail.
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// CertSummary is what a person needs to recognise a certificate and decide
// whether to trust it: who it is for, who issued it, when, and its pin.
type CertSummary struct {
	Subject   string      `json:"subject"`
	Issuer    string      `json:"issuer"`
	NotBefore time.Time   `json:"notBefore"`
	NotAfter  time.Time   `json:"notAfter"`
	Pin       pinning.Pin `json:"pin"`
	IsCA      bool        `json:"isCA"`
	DNSNames  []string    `json:"dnsNames,omitempty"`
	IPs       []string    `json:"ips,omitempty"`
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
