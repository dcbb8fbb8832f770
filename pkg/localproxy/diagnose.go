package localproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/connerr"
)

// GatewayFailure classifies what the gateway did when it refused us, so the
// message (and doctor) can name the gateway setting to check.
type GatewayFailure int

const (
	// FailureNoCertRequested: the gateway refused the connection without
	// asking for a client certificate.
	FailureNoCertRequested GatewayFailure = iota + 1
	// FailureCertRejected: it asked for a client certificate and rejected
	// the one we presented.
	FailureCertRejected
	// FailureResumptionRefused: it refused a handshake that resumed a
	// cached TLS session, before asking for a certificate.
	FailureResumptionRefused
	// FailureClosedBeforeHandshake: it closed the connection before
	// presenting its certificate.
	FailureClosedBeforeHandshake
	// FailureNotTLS: it answered in something other than TLS.
	FailureNotTLS
)

var failureNames = map[GatewayFailure]string{
	FailureNoCertRequested:       "no client certificate requested",
	FailureCertRejected:          "client certificate rejected",
	FailureResumptionRefused:     "resumed session refused",
	FailureClosedBeforeHandshake: "closed before the handshake",
	FailureNotTLS:                "not TLS",
}

func (f GatewayFailure) String() string {
	if name, ok := failureNames[f]; ok {
		return name
	}
	return fmt.Sprintf("GatewayFailure(%d)", int(f))
}

// GatewayError says what the gateway refused, and which of its settings
// most likely causes it.
type GatewayError struct {
	Failure GatewayFailure
	// Step is where it happened: "TLS handshake" or "open tunnel".
	Step string
	// What is what we observed, in words.
	What string
	// Fix names the gateway setting (or our own) to check.
	Fix string
	Err error
	// cause is the part of Err worth showing: the TLS alert, when there
	// is one (the status line kubectl shows is bounded).
	cause error
}

func (e *GatewayError) Error() string {
	return fmt.Sprintf("%s: %s (%v); %s", e.Step, e.What, e.cause, e.Fix)
}

func (e *GatewayError) Unwrap() error { return e.Err }

// handshakeInfo records what happened during one handshake with the
// gateway, to explain a failure.
type handshakeInfo struct {
	// offeredSession: we offered a cached session (a resumption attempt).
	offeredSession bool
	// serverVerified: the gateway's certificate (or, resuming, the
	// session's) was checked, so it got past the start of the handshake.
	serverVerified bool
	certRequested  bool
	acceptableCAs  []string
}

// Settings of the gateways people deploy, named in the hints.
const (
	clientCASettings   = "Squid clientca=, stunnel CAfile, HAProxy ca-file, nginx ssl_client_certificate"
	requireSettings    = "Squid clientca=, stunnel requireCert = yes, HAProxy verify required, nginx ssl_verify_client on"
	listenerSettings   = "Squid https_port, not http_port; stunnel accept; HAProxy bind ... ssl; nginx listen ... ssl"
	sessionCtxSettings = "Squid https_port ... sslcontext=NAME; HAProxy, nginx and stunnel set one themselves"
)

// explainTLSError adds the likely cause and the fix to TLS failures.
func (p *Proxy) explainTLSError(ctx context.Context, step string, err error, info *handshakeInfo) error {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		pinErr           *pinMismatchError
		recordErr        tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &pinErr):
		return err
	case errors.As(err, &unknownAuthority):
		return fmt.Errorf("%s: %w; the gateway certificate is not issued by a CA in the gateway CA bundle (wrong bundle, or a TLS-inspecting proxy in between?)", step, err)
	case errors.As(err, &hostname):
		return fmt.Errorf("%s: %w; set the gateway server name to a name its certificate is valid for", step, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%s: %w; the gateway certificate chain is not valid (expired, or not for server authentication)", step, err)
	case errors.As(err, &recordErr):
		return &GatewayError{Failure: FailureNotTLS, Step: step, Err: err, cause: err,
			What: "the gateway answered in something other than TLS",
			Fix:  fmt.Sprintf("is this its mutual-TLS port (%s)?", listenerSettings)}
	}
	if kind := p.classify(err, info); kind != 0 {
		return p.gatewayError(kind, step, err, info)
	}
	return fmt.Errorf("%s: %w", step, p.explainTimeout(ctx, err))
}

// classify names what the gateway did, or 0 when err is not the gateway
// refusing us (a timeout, our own shutdown).
func (p *Proxy) classify(err error, info *handshakeInfo) GatewayFailure {
	var opErr *net.OpError
	alert := errors.As(err, &opErr) && opErr.Op == "remote error"
	closed := connerr.Reset(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	switch {
	case !alert && !closed:
		return 0
	case info.certRequested:
		// With TLS 1.3 the gateway judges our certificate after our side
		// of the handshake; it may close before its alert reaches us.
		return FailureCertRejected
	case info.offeredSession && !info.serverVerified:
		return FailureResumptionRefused
	case closed && !info.serverVerified:
		return FailureClosedBeforeHandshake
	case alert:
		return FailureNoCertRequested
	}
	return 0
}

func (p *Proxy) gatewayError(kind GatewayFailure, step string, err error, info *handshakeInfo) *GatewayError {
	e := &GatewayError{Failure: kind, Step: step, Err: err, cause: err}
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		e.cause = opErr
	case connerr.Reset(err):
		e.cause = connerr.ErrReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.cause = io.EOF
	}
	switch kind {
	case FailureCertRejected:
		e.What = "gateway rejected our TLS connection" + p.clientCertHint(info)
		e.Fix = "its client CA (" + clientCASettings + ") must have issued ours"
	case FailureResumptionRefused:
		e.What = "gateway refused to resume our TLS session, before asking for a client certificate"
		e.Fix = "OpenSSL refuses resumed handshakes when it verifies client certificates without a session ID context: set one (" + sessionCtxSettings + ")"
	case FailureClosedBeforeHandshake:
		e.What = "gateway closed the connection before the TLS handshake"
		e.Fix = fmt.Sprintf("check that the port serves TLS (%s), accepts the server name %q (HAProxy strict-sni, nginx ssl_reject_handshake) and this client address", listenerSettings, p.cfg.serverName)
	case FailureNoCertRequested:
		e.What = "gateway rejected our TLS connection; it did not ask for a client certificate"
		e.Fix = "check its TLS versions and ciphers, and that the port requires client certificates (" + requireSettings + ")"
	}
	return e
}

// clientCertHint describes our certificate against what the gateway asked
// for, which is usually the answer to "why was I rejected".
func (p *Proxy) clientCertHint(info *handshakeInfo) string {
	cert := p.cfg.clientCert
	hint := fmt.Sprintf("; it asked for a client certificate and we presented %q from %q", cert.Subject, cert.Issuer)
	if now := time.Now(); now.After(cert.NotAfter) {
		hint += fmt.Sprintf(", which expired %s: renew it", cert.NotAfter.UTC().Format(time.RFC3339))
	} else if now.Before(cert.NotBefore) {
		hint += fmt.Sprintf(", which is not valid before %s: check the clock", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if len(info.acceptableCAs) > 0 {
		hint += fmt.Sprintf("; it accepts ones from %s", strings.Join(info.acceptableCAs, "; "))
	}
	return hint
}
