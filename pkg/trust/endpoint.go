package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Endpoint is where kubectl will connect: the trusted secondary endpoint.
type Endpoint struct {
	// URL is https://host[:port][/path]; the port defaults to 443.
	URL string
	// TLSServerName, when set, is sent as SNI and is the name the certificate
	// must be valid for, instead of the URL's host. Use it when the endpoint
	// is reached by an address or alias its certificate does not name.
	TLSServerName string
}

const defaultHTTPSPort = "443"

// Address returns the host:port to dial.
func (e Endpoint) Address() (string, error) {
	u, err := e.parse()
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port == "" {
		port = defaultHTTPSPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("endpoint %q: port %q is not a number from 1 to 65535", e.URL, port)
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// ServerName returns the name the certificate must be valid for:
// TLSServerName, else the URL's host, which may be an IP literal (then the
// certificate must carry it as an IP SAN). It is empty for a malformed URL.
func (e Endpoint) ServerName() string {
	if e.TLSServerName != "" {
		return e.TLSServerName
	}
	u, err := e.parse()
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func (e Endpoint) parse() (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(e.URL))
	if err != nil {
		return nil, fmt.Errorf("endpoint URL %q is malformed (%v): expected https://host[:port]", e.URL, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint URL %q must start with https://: the endpoint has to present a certificate to verify", e.URL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("endpoint URL %q has no host: expected https://host[:port]", e.URL)
	}
	return u, nil
}

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
func FetchChain(ctx context.Context, ep Endpoint, opts FetchOptions) ([]*x509.Certificate, error) {
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
		InsecureSkipVerify: true, //nolint:gosec // verified by Verify, never used for data
		// SNI routes the connection at a proxy such as HAProxy; crypto/tls
		// leaves IP literals out of it, as RFC 6066 requires.
		ServerName: serverName,
		// Offer what kubectl offers, so a proxy that routes on ALPN shows
		// the chain kubectl will see.
		NextProtos: []string{"http/1.1"},
		MinVersion: tls.VersionTLS12,
	}
}

func unreachable(ctx context.Context, ep Endpoint, opts FetchOptions, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		err = fmt.Errorf("no answer within %s: %w", opts.timeout(), err)
	}
	return &Error{Kind: KindUnreachable, Endpoint: ep.URL, Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
