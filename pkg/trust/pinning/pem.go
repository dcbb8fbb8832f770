package pinning

import (
	"encoding/pem"
	"errors"
	"fmt"
)

// A PEMCertificate is one CERTIFICATE block of a PEM bundle, read only as
// far as pinning needs: the key it pins and the name to show.
//
// Why not crypto/x509: the exec credential path checks the CA data kubectl
// sends on every call, and linking crypto/x509 (its package init and that
// of the RSA, ECDSA and big-number packages it parses keys with) and
// parsing with it cost the small exec program about 22 of its ~300 page
// faults, a tenth of its run. A pin is the SHA-256 of the certificate's
// DER SubjectPublicKeyInfo, which is found by walking the DER structure
// the way crypto/x509 walks it (certificate_test.go holds the two to the
// same result): strict DER, the same fields in the same order. A
// certificate that crypto/x509 accepts therefore yields the same pin here;
// one it rejects may still yield one, which is harmless for a check that
// refuses whatever carries no pinned key.
type PEMCertificate struct {
	// Index is the block's 1-based position among the PEM blocks.
	Index int
	// Headered is true for a block with PEM headers, which client-go's
	// AppendCertsFromPEM skips.
	Headered bool
	DER      []byte
	Pin      Pin
	// Subject is the subject name as crypto/x509's pkix.Name.String
	// writes the standard attributes (CN, O, OU, C, ST, L, STREET,
	// POSTALCODE, SERIALNUMBER); others are left out.
	Subject string
}

// PEMBlock is one PEM block of a bundle as ScanPEM saw it: a certificate
// when Type is CERTIFICATE and Err is nil.
type PEMBlock struct {
	Type string
	Err  error // why a CERTIFICATE block is unreadable
	PEMCertificate
}

// ScanPEM reads every PEM block of data, readable or not, in order.
func ScanPEM(data []byte) []PEMBlock {
	var blocks []PEMBlock
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return blocks
		}
		b := PEMBlock{Type: block.Type, PEMCertificate: PEMCertificate{Index: len(blocks) + 1, Headered: len(block.Headers) != 0, DER: block.Bytes}}
		if b.Type == "CERTIFICATE" {
			var spki []byte
			if spki, b.Subject, b.Err = certificateFields(block.Bytes); b.Err == nil {
				b.Pin = PinForSPKI(spki)
			}
		}
		blocks = append(blocks, b)
	}
}

// ReadPEMCertificates reads a PEM bundle, such as a --ca-file or kubeconfig
// certificate-authority-data. Text between blocks is ignored, as in the
// bundles distributions ship, but any block that is not a certificate is an
// error: a key or CSR in a CA bundle means the wrong file was given.
func ReadPEMCertificates(data []byte) ([]PEMCertificate, error) {
	var certs []PEMCertificate
	for _, b := range ScanPEM(data) {
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, want only CERTIFICATE blocks: is this the CA bundle?", b.Index, b.Type)
		}
		if b.Err != nil {
			return nil, fmt.Errorf("PEM certificate %d: %w", b.Index, b.Err)
		}
		certs = append(certs, b.PEMCertificate)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificates found: expected one or more -----BEGIN CERTIFICATE----- blocks")
	}
	return certs, nil
}
