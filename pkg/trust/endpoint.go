package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// FetchOptions tune how FetchChain connects.
type FetchOptions struct {
	// Timeout bounds dialing plus the TLS handshake; zero means 10s.
	Timeout time.Duration
	// DialContext opens the TCP connection; nil means a plain net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

const defaultFetchTimeout = 10 * time.Second

func (o FetchOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return defaultFetchTimeout
}

func (o FetchOptions) dial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.DialContext != nil {
		return o.DialContext
	}
	return (&net.Dialer{}).DialContext
}

// FetchChain connects to ep and returns the certificates it presents, leaf
// first. It does not verify them (Verify does, with a policy); the handshake
// still proves the server holds the leaf's private key.
func FetchChain(ctx context.Context, ep pinning.Endpoint, opts FetchOptions) ([]*x509.Certificate, error) {
	addr, err := ep.Address()
	if err != nil {
		return nil, &Error{Kind: KindInvalidInput, Endpoint: ep.URL, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()

	conn, err := opts.dial()(ctx, "tcp", addr)
	if err != nil {
		return nil, unreachable(ctx, ep, opts, fmt.Errorf("connect to %s: %w", addr, err))
	}
	defer conn.Close()
	// A custom dialer's connection may ignore ctx; the deadline bounds the
	// handshake regardless.
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	tlsConn := tls.Client(conn, fetchConfig(ep.ServerName()))
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, unreachable(ctx, ep, opts, fmt.Errorf("TLS handshake with %s: %w", addr, err))
	}
	certs := tlsConn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, &Error{Kind: KindNoCertificates, Endpoint: ep.URL}
	}
	return certs, nil
}

// fetchConfig only collects the chain; Verify decides about trust, with the
// policy and clock the caller passes, and reports why in terms a user can act
// on, which crypto/tls's own verification cannot.
func fetchConfig(serverName string) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // Verify decides; this connection never carries data
		// SNI routes the connection at a proxy such as HAProxy; crypto/tls
		// leaves IP literals out of it, as RFC 6066 requires.
		ServerName: serverName,
		// Offer what kubectl offers, so a proxy that routes on ALPN shows
		// the chain kubectl will see.
		NextProtos: []string{"http/1.1"},
		MinVersion: tls.VersionTLS12,
	}
}

func unreachable(ctx context.Context, ep pinning.Endpoint, opts FetchOptions, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		err = fmt.Errorf("no answer within %s: %w", opts.timeout(), err)
	}
	return &Error{Kind: KindUnreachable, Endpoint: ep.URL, Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
