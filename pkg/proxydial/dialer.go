package proxydial

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/proxy"

	"github.com/securekapi/securekapi/pkg/hostport"
)

// DialFunc opens a TCP connection.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dialer reaches addresses through the proxy at URL as client-go does for
// a kubeconfig cluster's proxy-url (clientcmd accepts http, https and
// socks5, and net/http's Transport dials them):
//   - http: TCP to the proxy, CONNECT with Proxy-Authorization Basic from
//     the URL's userinfo;
//   - https: the same inside TLS to the proxy, verified with TLSConfig (for
//     kubectl that is the cluster's own: its CA data and tls-server-name,
//     else the proxy's host name);
//   - socks5: a SOCKS5 CONNECT with the host name (the proxy resolves it)
//     and username/password from the userinfo, through golang.org/x/net's
//     client, which client-go's streaming dialer uses too.
type Dialer struct {
	URL *url.URL
	// TLSConfig verifies an https proxy; nil means the system roots.
	TLSConfig *tls.Config
	// Forward dials the proxy; nil is a net.Dialer.
	Forward DialFunc
}

// DialError says the proxy itself was not reached (TCP or its TLS), as
// opposed to the proxy refusing or failing to reach the target.
type DialError struct {
	Proxy string // the URL, redacted
	Err   error
}

func (e *DialError) Error() string { return fmt.Sprintf("reach proxy %s: %v", e.Proxy, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// kubeconfigSchemes are the proxy-url schemes clientcmd accepts. The
// environment's HTTPS_PROXY may also say socks5h, as net/http takes it;
// DialContext dials that one too.
var kubeconfigSchemes = []string{"http", "https", "socks5"}

// CheckScheme refuses what clientcmd refuses in a proxy-url.
func CheckScheme(u *url.URL) error {
	if slices.Contains(kubeconfigSchemes, u.Scheme) {
		return nil
	}
	return fmt.Errorf("proxy-url %s: unsupported scheme %q, must be http, https, or socks5 (as for kubectl)", u.Redacted(), u.Scheme)
}

// DialContext opens a tunnel to addr (host:port) through the proxy.
func (d Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if !slices.Contains(kubeconfigSchemes, d.URL.Scheme) && d.URL.Scheme != "socks5h" {
		return nil, fmt.Errorf("proxy %s: unsupported scheme %q, use http, https or socks5", d.URL.Redacted(), d.URL.Scheme)
	}
	proxyAddr, err := d.address()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(d.URL.Scheme, "socks5") {
		return d.dialSOCKS5(ctx, network, addr, proxyAddr)
	}
	conn, err := d.forward()(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, &DialError{Proxy: d.URL.Redacted(), Err: err}
	}
	if d.URL.Scheme == "https" {
		if conn, err = d.handshake(ctx, conn); err != nil {
			return nil, err
		}
	}
	var auth string
	if u := d.URL.User; u != nil {
		pass, _ := u.Password()
		auth = BasicAuth(u.Username(), pass)
	}
	return Connect(ctx, conn, addr, auth, "proxy "+d.URL.Redacted())
}

func (d Dialer) handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.TLSConfig != nil {
		cfg = d.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = d.URL.Hostname()
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, &DialError{Proxy: d.URL.Redacted(), Err: fmt.Errorf("TLS handshake: %w", err)}
	}
	return tc, nil
}

func (d Dialer) dialSOCKS5(ctx context.Context, network, addr, proxyAddr string) (net.Conn, error) {
	var auth *proxy.Auth
	if u := d.URL.User; u != nil {
		pass, _ := u.Password()
		auth = &proxy.Auth{User: u.Username(), Password: pass}
	}
	forward := d.forward()
	reach := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := forward(ctx, network, addr)
		if err != nil {
			return nil, &DialError{Proxy: d.URL.Redacted(), Err: err}
		}
		return conn, nil
	}
	socks, err := proxy.SOCKS5("tcp", proxyAddr, auth, forwardDialer(reach))
	if err != nil {
		return nil, err
	}
	// proxy.SOCKS5's dialer is always a ContextDialer.
	conn, err := socks.(proxy.ContextDialer).DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("through proxy %s: %w", d.URL.Redacted(), err)
	}
	return conn, nil
}

// address is the proxy's host:port, with net/http's default ports.
func (d Dialer) address() (string, error) {
	if strings.HasPrefix(d.URL.Scheme, "socks5") && d.URL.Port() == "" && d.URL.Hostname() != "" {
		return net.JoinHostPort(d.URL.Hostname(), "1080"), nil
	}
	return hostport.OfURL(d.URL)
}

func (d Dialer) forward() DialFunc {
	if d.Forward != nil {
		return d.Forward
	}
	return (&net.Dialer{}).DialContext
}

// forwardDialer lets x/net/proxy dial the SOCKS server with ctx.
type forwardDialer DialFunc

func (f forwardDialer) Dial(network, addr string) (net.Conn, error) {
	return f(context.Background(), network, addr)
}

func (f forwardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}
