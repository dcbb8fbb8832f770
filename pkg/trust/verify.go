package trust

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Policy is what a chain must satisfy to be trusted.
type Policy struct {
	// CABundle, when non-empty, is the only set of roots: neither the system
	// roots nor pinned certificates are trusted beyond it.
	CABundle []*x509.Certificate
	// SystemRoots replaces the system pool (tests); nil loads the real one.
	SystemRoots *x509.CertPool
	// Pins, when non-empty, must match a certificate of the verified chain.
	// Without a CABundle a presented pinned certificate is also a root.
	Pins []pinning.Pin
	// ServerName is the DNS name or IP literal to verify the leaf for.
	ServerName string
	// Now is the verification time. It is required so that every caller
	// decides which clock to trust.
	Now time.Time
}

// Verified is a chain that satisfied a Policy.
type Verified struct {
	// Chain is the verified chain, leaf first, root last.
	Chain []*x509.Certificate
	// CAs are the certificates kubectl should trust: Chain[1:], or the leaf
	// itself when a pinned leaf is the whole chain.
	CAs []*x509.Certificate
	// MatchedPin is the pin found in Chain; empty when Policy.Pins was.
	MatchedPin pinning.Pin
}

// CAPEM returns CAs as PEM: exactly the CA chain that was verified, for
// kubeconfig's certificate-authority-data.
func (v *Verified) CAPEM() []byte { return EncodePEM(v.CAs) }

// Check fetches ep's chain and verifies it against p. p.ServerName defaults
// to ep.ServerName().
func Check(ctx context.Context, ep pinning.Endpoint, p Policy, opts FetchOptions) (*Verified, error) {
	if p.ServerName == "" {
		p.ServerName = ep.ServerName()
	}
	presented, err := FetchChain(ctx, ep, opts)
	if err != nil {
		return nil, err
	}
	v, err := Verify(presented, p)
	var te *Error
	if errors.As(err, &te) {
		te.Endpoint = ep.URL
	}
	return v, err
}

// Verify checks a presented chain (leaf first, as the server sent it)
// against p: roots, name, dates, key usage, then pins. A wrong pin is an
// error even when the chain is otherwise valid under the system roots.
func Verify(presented []*x509.Certificate, p Policy) (*Verified, error) {
	if err := checkInput(presented, p); err != nil {
		return nil, err
	}
	fail := newFailure(presented, p)
	roots, err := rootsFor(presented, p)
	if err != nil {
		return nil, fail(KindUnknownAuthority, nil, err)
	}
	chains, err := presented[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: poolOf(presented[1:]),
		DNSName:       p.ServerName,
		CurrentTime:   p.Now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, classify(err, presented, p, fail)
	}
	return choose(chains, presented, p, fail)
}

func checkInput(presented []*x509.Certificate, p Policy) error {
	invalid := func(format string, args ...any) error {
		return &Error{Kind: KindInvalidInput, ServerName: p.ServerName, Expected: p.Pins, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case len(presented) == 0:
		return &Error{Kind: KindNoCertificates, ServerName: p.ServerName, Expected: p.Pins}
	case p.Now.IsZero():
		return invalid("no verification time given (Policy.Now)")
	case p.ServerName == "":
		// An empty name would make x509 skip the name check entirely.
		return invalid("no server name to verify the certificate for")
	}
	for i, c := range presented {
		if c == nil {
			return invalid("presented certificate %d is missing", i)
		}
	}
	return nil
}

// failFunc builds an Error of a kind, about one certificate (or nil), with
// the underlying error (or nil).
type failFunc func(k Kind, about *x509.Certificate, err error) *Error

// newFailure returns a failFunc for this chain and policy.
func newFailure(presented []*x509.Certificate, p Policy) failFunc {
	chain := Summarize(presented)
	pins := pinsOf(presented)
	return func(k Kind, about *x509.Certificate, err error) *Error {
		e := &Error{Kind: k, ServerName: p.ServerName, Expected: p.Pins, Presented: pins, Chain: chain, Now: p.Now, Err: err}
		if about != nil {
			s := summarize(about)
			e.Cert = &s
		}
		return e
	}
}

// rootsFor builds the root pool: the CA bundle alone when there is one, else
// the system roots plus every presented certificate that is pinned
// (kubeadm-style trust anchored on the pin).
func rootsFor(presented []*x509.Certificate, p Policy) (*x509.CertPool, error) {
	if len(p.CABundle) > 0 {
		return poolOf(p.CABundle), nil
	}
	roots, err := systemRoots(p)
	pinned := pinnedCerts(presented, p.Pins)
	if err != nil && len(pinned) == 0 {
		return nil, fmt.Errorf("cannot load the system roots: %w", err)
	}
	if err != nil {
		roots = x509.NewCertPool()
	}
	for _, c := range pinned {
		roots.AddCert(c)
	}
	return roots, nil
}

// systemRoots returns a copy, so adding pinned roots never leaks into the
// caller's pool or the process-wide system pool.
func systemRoots(p Policy) (*x509.CertPool, error) {
	if p.SystemRoots != nil {
		return p.SystemRoots.Clone(), nil
	}
	return x509.SystemCertPool()
}

func pinnedCerts(certs []*x509.Certificate, pins []pinning.Pin) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range certs {
		if _, ok := ChainMatchesPins([]*x509.Certificate{c}, pins); ok {
			out = append(out, c)
		}
	}
	return out
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// choose picks the verified chain to report. With pins it must contain one;
// among several it takes the shortest, so kubeconfig trusts as little as the
// pin allows.
func choose(chains [][]*x509.Certificate, presented []*x509.Certificate, p Policy, fail failFunc) (*Verified, error) {
	var best *Verified
	for _, chain := range chains {
		pin, ok := ChainMatchesPins(chain, p.Pins)
		if len(p.Pins) > 0 && !ok {
			continue
		}
		if best == nil || len(chain) < len(best.Chain) {
			best = &Verified{Chain: chain, CAs: casOf(chain), MatchedPin: pin}
		}
	}
	if best == nil {
		e := fail(KindPinMismatch, nil, nil)
		// Show the roots the chain verified to as well: when an unexpected CA
		// vouches for the endpoint, its pin is what the user must compare.
		e.Chain = append(e.Chain, Summarize(notPresented(chains, presented))...)
		return nil, e
	}
	return best, nil
}

// notPresented lists the certificates of the verified chains that the server
// did not send, i.e. the roots taken from the bundle or system pool.
func notPresented(chains [][]*x509.Certificate, presented []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, chain := range chains {
		for _, c := range chain {
			known := func(d *x509.Certificate) bool { return d.Equal(c) }
			if !slices.ContainsFunc(presented, known) && !slices.ContainsFunc(out, known) {
				out = append(out, c)
			}
		}
	}
	return out
}

func casOf(chain []*x509.Certificate) []*x509.Certificate {
	if len(chain) == 1 {
		return chain
	}
	return chain[1:]
}

// classify turns an x509 verification error into an Error whose Kind says
// what the user has to fix.
func classify(err error, presented []*x509.Certificate, p Policy, fail failFunc) error {
	leaf := presented[0]
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fail(dateKind(invalid.Cert, p.Now), invalid.Cert, err)
	case errors.As(err, &invalid):
		return fail(KindInvalidCertificate, invalid.Cert, err)
	case errors.As(err, &hostname):
		return fail(KindHostnameMismatch, leaf, err)
	case errors.As(err, &unknown):
		// x509 reports an expired intermediate or root as an unknown
		// authority, because it discards that candidate; name the real cause.
		if c := outOfDate(relevantCerts(presented, p.CABundle), p.Now); c != nil {
			return fail(dateKind(c, p.Now), c, err)
		}
		if isSelfSigned(leaf) {
			return fail(KindSelfSigned, leaf, err)
		}
		return fail(KindUnknownAuthority, nil, err)
	}
	return fail(KindUnknownAuthority, nil, err)
}

// dateKind tells expired from not-yet-valid, which x509 lumps together.
func dateKind(c *x509.Certificate, now time.Time) Kind {
	if c != nil && now.Before(c.NotBefore) {
		return KindNotYetValid
	}
	return KindExpired
}

// relevantCerts are the presented certificates plus the bundle CAs that
// issued one of them: an unrelated expired CA in the bundle is no reason.
func relevantCerts(presented, bundle []*x509.Certificate) []*x509.Certificate {
	out := append([]*x509.Certificate{}, presented...)
	for _, ca := range bundle {
		for _, c := range presented {
			if bytes.Equal(ca.RawSubject, c.RawIssuer) {
				out = append(out, ca)
				break
			}
		}
	}
	return out
}

func outOfDate(certs []*x509.Certificate, now time.Time) *x509.Certificate {
	for _, c := range certs {
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return c
		}
	}
	return nil
}

// isSelfSigned checks the signature with the leaf's own key rather than
// CheckSignatureFrom, which would also demand that the leaf be a CA.
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
