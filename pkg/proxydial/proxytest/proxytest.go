// Package proxytest is a forward proxy for tests: it answers HTTP CONNECT,
// records what it was asked, and relays (or refuses, as a test says).
package proxytest

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// Request is one CONNECT the proxy received.
type Request struct {
	Target string
	// ProxyAuthorization is the header's value, "" without one.
	ProxyAuthorization string
}

// Proxy is a CONNECT proxy listening on Addr until the test ends.
type Proxy struct {
	Addr string
	// Route picks the address a CONNECT target is relayed to; nil relays
	// to the target itself. A hostile proxy routes to the attacker.
	Route func(target string) string
	// Answer, when set, is sent instead of relaying (a 407, a 403).
	Answer string
	// Allow, when set, limits the targets relayed: any other gets 403, as
	// a forward proxy's allow list answers.
	Allow func(target string) bool
	mu    sync.Mutex
	seen  []Request
}

// Start runs a proxy; configure, when not nil, sets Route or Answer
// before it accepts. With tlsCfg it is an https:// proxy.
func Start(t testing.TB, tlsCfg *tls.Config, configure func(*Proxy)) *Proxy {
	p := &Proxy{}
	if configure != nil {
		configure(p)
	}
	p.Addr = Serve(t, p.serve, tlsCfg)
	return p
}

// Requests is every CONNECT received so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.seen...)
}

func (p *Proxy) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.mu.Lock()
	p.seen = append(p.seen, Request{Target: req.RequestURI, ProxyAuthorization: req.Header.Get("Proxy-Authorization")})
	p.mu.Unlock()
	if p.Answer != "" {
		io.WriteString(c, p.Answer)
		return
	}
	if p.Allow != nil && !p.Allow(req.RequestURI) {
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	to := req.RequestURI
	if p.Route != nil {
		to = p.Route(to)
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() { io.Copy(up, br); up.Close() }()
	io.Copy(c, up)
}

// Serve accepts connections on a loopback port (in TLS with tlsCfg) and
// hands each to serve, until the test ends. It returns the address.
func Serve(t testing.TB, serve func(net.Conn), tlsCfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}
