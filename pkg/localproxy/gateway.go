package localproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/securekapi/securekapi/pkg/connerr"
	"github.com/securekapi/securekapi/pkg/hostport"
	"github.com/securekapi/securekapi/pkg/proxydial"
)

const (
	// Bounds of the wait for a rejection of our client certificate in
	// direct mode (see confirmClientCertAccepted).
	minCertVerdictWait = 20 * time.Millisecond
	maxCertVerdictWait = time.Second
)

// gatewayConn is an established tunnel through the gateway.
type gatewayConn struct {
	conn *tls.Conn
	// raw is the transport under conn; closing it aborts without waiting
	// to send close_notify.
	raw net.Conn
	// early holds bytes the gateway sent along with its CONNECT answer or
	// during the direct-mode check; they belong to the client.
	early []byte
	info  *handshakeInfo
}

// dialGateway reaches the gateway (through the corporate proxy if one
// applies), completes mutual TLS and opens the tunnel to target. Errors say
// which step failed and what to check.
//
// A connection never fails where a fresh handshake would succeed: when a
// dial that offered a cached session is dropped by the gateway, the session
// is dropped too and the dial is retried once with a full handshake. If
// that works, the gateway refuses resumption and is not offered sessions
// again.
func (p *Proxy) dialGateway(parent context.Context, target string) (gw *gatewayConn, err error) {
	addr := p.cfg.Gateway.Address
	defer func() {
		if err != nil {
			err = fmt.Errorf("gateway %s: %w", addr, err)
		}
	}()
	ctx, cancel := context.WithTimeout(parent, p.cfg.DialTimeout)
	defer cancel()

	gw, info, err := p.dialOnce(ctx, target, true)
	if err == nil || !info.offeredSession || ctx.Err() != nil || p.classify(err, info) == 0 {
		return gw, err
	}
	p.sessionCache.drop(p.cfg.serverName)
	gw, _, retryErr := p.dialOnce(ctx, target, false)
	if retryErr != nil {
		return nil, retryErr
	}
	p.sessionCache.refuse(p.log, addr, err)
	return gw, nil
}

// dialOnce is one attempt of dialGateway; resume lets its handshake offer
// a cached session.
func (p *Proxy) dialOnce(ctx context.Context, target string, resume bool) (gw *gatewayConn, info *handshakeInfo, err error) {
	info = &handshakeInfo{}
	raw, err := p.dialTransport(ctx, p.cfg.Gateway.Address)
	if connerr.Refused(err) {
		// Not "connection refused": kubectl rewrites any error with those
		// words into "the connection to the server <endpoint> was refused",
		// which would blame the API endpoint for the gateway being down.
		return nil, info, errors.New("nothing accepts connections at this address (ECONNREFUSED); is the gateway up?")
	}
	if err != nil {
		return nil, info, p.explainTimeout(ctx, err)
	}
	// From here on, blocking I/O follows ctx through deadlines.
	raw.SetDeadline(deadlineOf(ctx))
	stopInterrupt := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stopInterrupt() && err == nil {
			// ctx ended while we finished; the deadline may be poisoned.
			err = p.explainTimeout(ctx, ctx.Err())
		}
		if err != nil {
			raw.Close()
			return
		}
		raw.SetDeadline(time.Time{})
	}()

	tlsCfg := p.tlsConfig(info)
	if resume {
		tlsCfg.ClientSessionCache = p.sessionCache.forHandshake(info)
	}
	conn := tls.Client(raw, tlsCfg)
	started := time.Now()
	if err := conn.HandshakeContext(ctx); err != nil {
		return nil, info, p.explainTLSError(ctx, "TLS handshake", err, info)
	}
	handshakeTook := time.Since(started)

	var early []byte
	switch p.cfg.Gateway.Mode {
	case ModeConnect:
		if early, err = requestTunnel(conn, target, "gateway"); err != nil {
			return nil, info, p.explainTLSError(ctx, "open tunnel", err, info)
		}
	case ModeDirect:
		if early, err = confirmClientCertAccepted(conn, handshakeTook); err != nil {
			return nil, info, p.explainTLSError(ctx, "TLS handshake", err, info)
		}
	}
	return &gatewayConn{conn: conn, raw: raw, early: early, info: info}, info, nil
}

func (p *Proxy) tlsConfig(info *handshakeInfo) *tls.Config {
	gw := &p.cfg.Gateway
	cfg := &tls.Config{
		ServerName: p.cfg.serverName,
		RootCAs:    gw.RootCAs,
		MinVersion: tls.VersionTLS12,
		// Always present our certificate, even if it is not issued by one
		// of the CAs the gateway lists: the gateway's refusal then names the
		// real problem instead of "certificate required".
		GetClientCertificate: func(req *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			info.certRequested = true
			for _, der := range req.AcceptableCAs {
				var rdns pkix.RDNSequence
				if _, err := asn1.Unmarshal(der, &rdns); err == nil {
					var name pkix.Name
					name.FillFromRDNSequence(&rdns)
					info.acceptableCAs = append(info.acceptableCAs, fmt.Sprintf("%q", name.String()))
				}
			}
			return &gw.Certificate, nil
		},
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		info.serverVerified = true
		if len(p.cfg.Gateway.Pins) > 0 {
			return verifyPins(p.cfg.Gateway.Pins, cs)
		}
		return nil
	}
	return cfg
}

// dialTransport opens the TCP path to the gateway, through the corporate
// proxy when ProxyFunc names one.
func (p *Proxy) dialTransport(ctx context.Context, addr string) (net.Conn, error) {
	proxyURL, err := p.cfg.ProxyFunc(&url.URL{Scheme: "https", Host: addr})
	if err != nil {
		return nil, fmt.Errorf("choose proxy (HTTPS_PROXY/NO_PROXY): %w", err)
	}
	if proxyURL == nil {
		conn, err := p.cfg.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		return conn, nil
	}
	conn, err := p.dialViaProxy(ctx, proxyURL, addr)
	if err != nil {
		return nil, fmt.Errorf("via proxy %s: %w", proxyURL.Redacted(), err)
	}
	return conn, nil
}

func (p *Proxy) dialViaProxy(ctx context.Context, proxyURL *url.URL, addr string) (net.Conn, error) {
	if proxyURL.Scheme != "http" {
		return nil, fmt.Errorf("proxy scheme %q is not supported for the gateway connection; use an http:// proxy URL", proxyURL.Scheme)
	}
	proxyAddr, err := hostport.OfURL(proxyURL)
	if err != nil {
		return nil, err
	}
	conn, err := p.cfg.DialContext(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	var auth string
	if u := proxyURL.User; u != nil {
		pass, _ := u.Password()
		auth = proxydial.BasicAuth(u.Username(), pass)
	}
	return proxydial.Connect(ctx, conn, addr, auth, "proxy")
}

// requestTunnel asks a forward-proxy gateway to CONNECT to target.
func requestTunnel(conn net.Conn, target, who string) ([]byte, error) {
	return proxydial.SendConnect(conn, target, "", who)
}

// confirmClientCertAccepted waits briefly for the gateway's verdict on our
// certificate. In TLS 1.3 the client's handshake completes before the server
// has checked the client certificate, so a rejection only arrives as an
// alert afterwards; in direct mode nothing else would surface it before we
// tell kubectl "200", and kubectl would then see a bare EOF. The wait scales
// with the handshake time (about one round trip). Resumed sessions skip it:
// the gateway accepted the certificate when it issued the ticket.
func confirmClientCertAccepted(conn *tls.Conn, handshakeTook time.Duration) ([]byte, error) {
	state := conn.ConnectionState()
	if state.Version < tls.VersionTLS13 || state.DidResume {
		return nil, nil
	}
	wait := min(max(2*handshakeTook, minCertVerdictWait), maxCertVerdictWait)
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	switch {
	case n > 0:
		return buf[:n], nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, nil // no alert: accepted
	case errors.Is(err, io.EOF):
		return nil, errors.New("gateway closed the connection right after the TLS handshake; its backend may be down or it refused our client certificate")
	default:
		return nil, err
	}
}

// explainTimeout turns a deadline error caused by DialTimeout into a
// sentence naming the setting.
// The check uses the clock rather than ctx.Err(): the connection deadline
// equals the context deadline and may fire first.
func (p *Proxy) explainTimeout(ctx context.Context, err error) error {
	timedOut := errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
	if deadline, ok := ctx.Deadline(); ok && timedOut && !time.Now().Before(deadline) {
		return fmt.Errorf("no answer within %s (DialTimeout): %w", p.cfg.DialTimeout, err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("aborted, the proxy is shutting down: %w", err)
	}
	return err
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
