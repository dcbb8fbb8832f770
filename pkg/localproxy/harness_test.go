package localproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
)

const (
	apiTarget      = "kapi.example.test:443" // routed to the TLS "API server"
	rawTarget      = "raw.example.test:443"  // routed to the plain scripted backend
	unroutedTarget = "nowhere.example.test:443"
	apiGreeting    = "hello from the API server"
)

// env is one test's world: CAs, an API server, a scripted raw backend, and
// helpers to start gateways and proxies. Everything stops in t.Cleanup.
type env struct {
	t           testing.TB
	gatewayCA   *testpki.Pair // signs the gateway's server certificate
	clientCA    *testpki.Pair // the gateway accepts client certificates from it
	apiCA       *testpki.Pair // signs the API server's certificate
	gatewayCert tls.Certificate
	clientCert  tls.Certificate
	apiServer   *httptest.Server
	raw         *tcpServer
	// rawReceived gets the byte count the "bye" script read after it
	// half-closed.
	rawReceived chan int
	// rawRelease ends the "deaf" script's hold; releaseRaw closes it, once.
	rawRelease chan struct{}
	releaseRaw func()
	routes     map[string]string
	logs       *syncBuffer
}

func newEnv(t testing.TB) *env {
	verifyNoLeaks(t)
	e := &env{
		t:           t,
		gatewayCA:   testpki.Root(t, "Gateway CA"),
		clientCA:    testpki.Root(t, "Gateway Client CA"),
		apiCA:       testpki.Root(t, "Cluster CA"),
		rawReceived: make(chan int, 16),
		rawRelease:  make(chan struct{}),
		logs:        &syncBuffer{},
	}
	e.gatewayCert = serverCert(t, e.gatewayCA, "gateway.test", "127.0.0.1")
	e.clientCert = clientCert(t, e.clientCA, "alice")

	e.apiServer = testpki.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, apiGreeting)
	}), testpki.Leaf(t, e.apiCA, "kapi.example.test"), e.apiCA)

	e.raw = serveTCP(t, listenLoopback(t), scriptedBackend(e.rawReceived, e.rawRelease))
	// Before the server's cleanup waits for its scripts. A test that holds a
	// "deaf" stream through a gateway registers it again after starting the
	// gateway, whose cleanup waits for that stream too.
	e.releaseRaw = sync.OnceFunc(func() { close(e.rawRelease) })
	t.Cleanup(e.releaseRaw)
	e.routes = map[string]string{
		apiTarget: e.apiServer.Listener.Addr().String(),
		rawTarget: e.raw.addr(),
	}
	return e
}

// config returns a proxy configuration for a gateway at addr.
func (e *env) config(gatewayAddr string, mode Mode) Config {
	return Config{
		Listen: "127.0.0.1:0",
		Gateway: Gateway{
			Address:     gatewayAddr,
			ServerName:  "gateway.test",
			RootCAs:     testpki.Pool(e.gatewayCA),
			Certificate: e.clientCert,
			Mode:        mode,
		},
		AllowedTargets: []string{apiTarget, rawTarget, unroutedTarget},
		Logger:         slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ProxyFunc:      func(*url.URL) (*url.URL, error) { return nil, nil },
		DialTimeout:    5 * time.Second,
	}
}

func (e *env) startProxy(cfg Config) *Proxy {
	e.t.Helper()
	p, err := Start(e.t.Context(), cfg)
	if err != nil {
		e.t.Fatalf("Start: %v", err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			e.t.Errorf("Shutdown: %v", err)
		}
		if strings.Contains(e.logs.String(), p.cfg.Credential) {
			e.t.Errorf("the credential appears in the log")
		}
	})
	return p
}

// httpsClient reaches the API server through p, verifying the API server's
// own certificate: TLS is end to end.
func (e *env) httpsClient(p *Proxy) *http.Client {
	tr := &http.Transport{
		Proxy:           http.ProxyURL(p.URL()),
		TLSClientConfig: &tls.Config{RootCAs: testpki.Pool(e.apiCA)},
	}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (e *env) getAPI(p *Proxy) (string, error) {
	client := e.httpsClient(p)
	// Close the kept-alive connection so each call is a new tunnel.
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + apiTarget + "/version")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// fakeGateway is a mutual-TLS gateway in either mode.
type fakeGateway struct {
	*tcpServer
	mode    Mode
	routes  map[string]string // connect mode: CONNECT target → address
	backend string            // direct mode: the fixed backend
}

// startGateway starts a gateway on addr ("" = any free port) that requires
// client certificates from e.clientCA. Direct mode forwards to backend.
func (e *env) startGateway(mode Mode, addr, backend string) *fakeGateway {
	e.t.Helper()
	return e.startGatewayWith(mode, addr, backend, e.gatewayCert, e.clientCA)
}

func (e *env) startGatewayWith(mode Mode, addr, backend string, cert tls.Certificate, clientCA *testpki.Pair) *fakeGateway {
	e.t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.t.Fatalf("gateway listen: %v", err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    testpki.Pool(clientCA),
	})
	g := &fakeGateway{mode: mode, routes: e.routes, backend: backend}
	g.tcpServer = serveTCP(e.t, tlsLn, g.handle)
	return g
}

func (g *fakeGateway) handle(c net.Conn) {
	tc := c.(*tls.Conn)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		return
	}
	var upstream net.Conn
	var early []byte
	var err error
	switch g.mode {
	case ModeConnect:
		br := bufio.NewReader(tc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		addr, ok := g.routes[req.RequestURI]
		if req.Method != http.MethodConnect || !ok {
			io.WriteString(tc, "HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Length: 0\r\n\r\n")
			return
		}
		if upstream, err = net.Dial("tcp", addr); err != nil {
			io.WriteString(tc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
			return
		}
		io.WriteString(tc, "HTTP/1.1 200 Connection established\r\n\r\n")
		early, _ = br.Peek(br.Buffered())
	case ModeDirect:
		if upstream, err = net.Dial("tcp", g.backend); err != nil {
			return
		}
	}
	defer upstream.Close()
	tc.SetDeadline(time.Time{})
	relay(tc, upstream, early)
}

// relay copies both ways with half-close, like a real gateway.
func relay(a, b net.Conn, aEarly []byte) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		relayHalf(b, io.MultiReader(bytes.NewReader(aEarly), a), a)
	}()
	relayHalf(a, b, b)
	<-done
}

func relayHalf(dst net.Conn, src io.Reader, srcConn net.Conn) {
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		srcConn.Close()
		return
	}
	if tc, ok := dst.(*tls.Conn); ok {
		tc.CloseWrite()
		dst = tc.NetConn()
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// scriptedBackend reads a command line and plays a script, so tests can
// exercise half-close, idleness and echo over a plain TCP backend. The proxy
// is byte-transparent, so the backend need not speak TLS.
func scriptedBackend(received chan<- int, release <-chan struct{}) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		cmd, err := br.ReadString('\n')
		if err != nil {
			return
		}
		tcp := c.(*net.TCPConn)
		switch strings.TrimSpace(cmd) {
		case "echo": // echo until EOF, then half-close
			io.Copy(c, br)
			tcp.CloseWrite()
			io.Copy(io.Discard, br)
		case "count": // read to EOF, then answer: needs the client's half-close
			data, _ := io.ReadAll(br)
			time.Sleep(50 * time.Millisecond)
			fmt.Fprintf(c, "got %d bytes\n", len(data))
		case "bye": // half-close first, keep reading, report what came
			io.WriteString(c, "bye\n")
			tcp.CloseWrite()
			n, _ := io.Copy(io.Discard, br)
			received <- int(n)
		case "watch": // stream a byte every 100ms, like a kubectl watch
			for i := 0; i < 15; i++ {
				if _, err := c.Write([]byte{'.'}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		case "sink": // silent until '!', then answer
			if _, err := br.ReadString('!'); err == nil {
				io.WriteString(c, "ok\n")
			}
			io.Copy(io.Discard, br)
		case "hold":
			io.Copy(io.Discard, br)
		case "deaf": // a silent stream that outlives the client's EOF, as a
			// watch behind a hop that does not pass the half-close on
			io.Copy(io.Discard, br)
			<-release
		}
	}
}

// corporateProxy is a minimal HTTP CONNECT proxy that can require Basic
// credentials and records the targets it was asked for.
type corporateProxy struct {
	*tcpServer
	auth    string // expected Proxy-Authorization, "" for none
	mu      sync.Mutex
	targets []string
}

func startCorporateProxy(t testing.TB, user, pass string) *corporateProxy {
	cp := &corporateProxy{}
	if user != "" {
		cp.auth = basicAuth(user, pass)
	}
	cp.tcpServer = serveTCP(t, listenLoopback(t), cp.handle)
	return cp
}

func (cp *corporateProxy) handle(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	cp.mu.Lock()
	cp.targets = append(cp.targets, req.Method+" "+req.RequestURI)
	cp.mu.Unlock()
	if cp.auth != "" && req.Header.Get("Proxy-Authorization") != cp.auth {
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
		return
	}
	upstream, err := net.Dial("tcp", req.RequestURI)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer upstream.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	early, _ := br.Peek(br.Buffered())
	relay(c, upstream, early)
}

func (cp *corporateProxy) seen() []string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]string(nil), cp.targets...)
}

// tcpServer runs handle for every connection and, on cleanup, closes the
// listener and all connections and waits for every handler.
type tcpServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	once  sync.Once
}

func serveTCP(t testing.TB, ln net.Listener, handle func(net.Conn)) *tcpServer {
	s := &tcpServer{ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go func() {
				defer s.wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
					c.Close()
				}()
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *tcpServer) addr() string { return s.ln.Addr().String() }

func (s *tcpServer) close() {
	s.once.Do(func() {
		s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}

func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t testing.TB) string {
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func (p *Proxy) testAuth() string { return basicAuth(proxyUser, p.cfg.Credential) }

// tunnel is a raw CONNECT through the proxy.
type tunnel struct {
	resp *http.Response
	conn *net.TCPConn
	r    *bufio.Reader // reads the tunnel after the response
}

// connect sends CONNECT target with the given Proxy-Authorization ("" for
// none) plus any pipelined bytes, and reads the answer.
func connect(t testing.TB, p *Proxy, target, auth string, pipelined string) *tunnel {
	t.Helper()
	conn, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if auth != "" {
		req += "Proxy-Authorization: " + auth + "\r\n"
	}
	return sendRaw(t, conn.(*net.TCPConn), req+"\r\n"+pipelined)
}

// sendRaw writes request bytes and reads one response.
func sendRaw(t testing.TB, conn *net.TCPConn, request string) *tunnel {
	t.Helper()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("write request: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("read proxy response: %v", err)
	}
	return &tunnel{resp: resp, conn: conn, r: br}
}

func (tn *tunnel) body(t testing.TB) string {
	t.Helper()
	b, err := io.ReadAll(tn.resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	return string(b)
}

func expectStatus(t testing.TB, tn *tunnel, want int) {
	t.Helper()
	if tn.resp.StatusCode != want {
		t.Fatalf("status = %q, want %d", tn.resp.Status, want)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// eventually polls cond until it holds or 5s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serverCert is a server certificate from ca for names (DNS names or IPs),
// with ca's certificate sent along.
func serverCert(t testing.TB, ca *testpki.Pair, names ...string) tls.Certificate {
	t.Helper()
	return testpki.Leaf(t, ca, names...).TLSCertificate(ca)
}

// clientCert is a client certificate from ca with common name cn.
func clientCert(t testing.TB, ca *testpki.Pair, cn string) tls.Certificate {
	t.Helper()
	return testpki.New(t, testpki.Spec{CN: cn, Issuer: ca, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}).TLSCertificate(ca)
}
