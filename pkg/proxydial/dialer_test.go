package proxydial

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/proxydial/proxytest"
)

// echoServer sends back whatever it receives.
func echoServer(t *testing.T) string {
	return proxytest.Serve(t, func(c net.Conn) { defer c.Close(); io.Copy(c, c) }, nil)
}

// roundTrip sends a line through conn and expects it back.
func roundTrip(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "ping\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("through the tunnel: %q, %v", line, err)
	}
}

func TestDialerHTTPAndHTTPSProxies(t *testing.T) {
	target := echoServer(t)
	plain := proxytest.Start(t, nil, func(p *proxytest.Proxy) { p.Route = func(string) string { return target } })
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS() // only for its certificate and client pool
	ts.Close()
	secure := proxytest.Start(t, ts.TLS, func(p *proxytest.Proxy) { p.Route = func(string) string { return target } })
	roots := ts.Client().Transport.(*http.Transport).TLSClientConfig

	for _, tc := range []struct {
		url   string
		proxy *proxytest.Proxy
		auth  string
		tls   *tls.Config
	}{
		{url: "http://" + plain.Addr, proxy: plain},
		{url: "http://alice:s3cret@" + plain.Addr, proxy: plain, auth: "Basic YWxpY2U6czNjcmV0"},
		{url: "https://bob:pw@" + secure.Addr, proxy: secure, auth: "Basic Ym9iOnB3", tls: roots},
	} {
		u, _ := url.Parse(tc.url)
		conn, err := Dialer{URL: u, TLSConfig: tc.tls}.DialContext(context.Background(), "tcp", "kapi.internal.invalid:6443")
		if err != nil {
			t.Fatalf("%s: %v", u.Redacted(), err)
		}
		roundTrip(t, conn)
		conn.Close()
		seen := tc.proxy.Requests()
		if want := (proxytest.Request{Target: "kapi.internal.invalid:6443", ProxyAuthorization: tc.auth}); seen[len(seen)-1] != want {
			t.Errorf("%s: proxy saw %+v, want %+v", u.Redacted(), seen[len(seen)-1], want)
		}
	}

	// An https proxy whose certificate the config does not trust.
	u, _ := url.Parse("https://" + secure.Addr)
	_, err := Dialer{URL: u}.DialContext(context.Background(), "tcp", "kapi.internal.invalid:6443")
	var dialErr *DialError
	if !errors.As(err, &dialErr) || !strings.Contains(err.Error(), "TLS handshake") {
		t.Errorf("untrusted https proxy: %v, want a DialError from its TLS handshake", err)
	}
}

func TestDialerReportsRefusalsWithoutThePassword(t *testing.T) {
	p := proxytest.Start(t, nil, func(p *proxytest.Proxy) {
		p.Answer = "HTTP/1.1 407 Proxy Authentication Required\r\nX-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\n\r\n"
	})
	u, _ := url.Parse("http://alice:s3cret@" + p.Addr)
	_, err := Dialer{URL: u}.DialContext(context.Background(), "tcp", "kapi.test:443")
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Code != 407 || refused.SquidError != "ERR_CACHE_ACCESS_DENIED 0" {
		t.Fatalf("407: %v, want a RefusedError with the code and Squid's error", err)
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "alice:xxxxx@") {
		t.Errorf("error %q shows the password or not the redacted proxy", err)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ln.Close() // nothing listens there now
	u, _ = url.Parse("http://" + ln.Addr().String())
	_, err = Dialer{URL: u}.DialContext(context.Background(), "tcp", "kapi.test:443")
	var dialErr *DialError
	if !errors.As(err, &dialErr) {
		t.Errorf("closed proxy port: %v, want a DialError", err)
	}
	u, _ = url.Parse("ftp://" + ln.Addr().String())
	if _, err := (Dialer{URL: u}).DialContext(context.Background(), "tcp", "kapi.test:443"); err == nil || !strings.Contains(err.Error(), `unsupported scheme "ftp"`) {
		t.Errorf("ftp proxy: %v", err)
	}
}

// socksServer is a minimal SOCKS5 server (RFC 1928/1929) that requires
// alice:s3cret, records the requested host:port and relays to relayTo.
func socksServer(t *testing.T, relayTo string, seen chan<- string) string {
	return proxytest.Serve(t, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 512)
		io.ReadFull(c, buf[:2])
		io.ReadFull(c, buf[:buf[1]])
		c.Write([]byte{5, 2}) // username/password
		io.ReadFull(c, buf[:2])
		user := make([]byte, buf[1])
		io.ReadFull(c, user)
		io.ReadFull(c, buf[:1])
		pass := make([]byte, buf[0])
		io.ReadFull(c, pass)
		if string(user) != "alice" || string(pass) != "s3cret" {
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
		io.ReadFull(c, buf[:5]) // ver cmd rsv atyp len (domain names only here)
		host := make([]byte, buf[4])
		io.ReadFull(c, host)
		io.ReadFull(c, buf[:2])
		seen <- net.JoinHostPort(string(host), strconv.Itoa(int(binary.BigEndian.Uint16(buf[:2]))))
		up, err := net.Dial("tcp", relayTo)
		if err != nil {
			return
		}
		defer up.Close()
		c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
		go io.Copy(up, c)
		io.Copy(c, up)
	}, nil)
}

func TestDialerSOCKS5(t *testing.T) {
	seen := make(chan string, 1)
	addr := socksServer(t, echoServer(t), seen)
	u, _ := url.Parse("socks5://alice:s3cret@" + addr)
	conn, err := Dialer{URL: u}.DialContext(context.Background(), "tcp", "kapi.internal.invalid:6443")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	roundTrip(t, conn)
	if got := <-seen; got != "kapi.internal.invalid:6443" {
		t.Errorf("the SOCKS server was asked for %q, want the host name unresolved", got)
	}

	u, _ = url.Parse("socks5://alice:wrong@" + addr)
	if _, err := (Dialer{URL: u}).DialContext(context.Background(), "tcp", "kapi.test:443"); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong SOCKS password: %v, want an error without the password", err)
	}
}
