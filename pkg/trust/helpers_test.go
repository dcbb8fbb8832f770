package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
)

// testNow is the clock every test verifies at; certificates are dated
// around it, so no test depends on the real time.
var testNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// issue is testpki.New on the tests' clock.
func issue(t testing.TB, s testpki.Spec) *testpki.Pair {
	t.Helper()
	s.Now = testNow
	return testpki.New(t, s)
}

func newRoot(t testing.TB, cn string) *testpki.Pair {
	return issue(t, testpki.Spec{CN: cn, CA: true})
}

func newIntermediate(t testing.TB, cn string, issuer *testpki.Pair) *testpki.Pair {
	return issue(t, testpki.Spec{CN: cn, CA: true, Issuer: issuer})
}

const testHost = "kapi.example.test"

func newLeaf(t testing.TB, issuer *testpki.Pair) *testpki.Pair {
	return issue(t, testpki.Spec{CN: testHost, Names: []string{testHost, "127.0.0.1"}, Issuer: issuer})
}

func certsOf(pairs ...*testpki.Pair) []*x509.Certificate {
	out := make([]*x509.Certificate, len(pairs))
	for i, p := range pairs {
		out[i] = p.Cert
	}
	return out
}

// tlsServer serves a certificate chain on 127.0.0.1 and records the SNI
// each client sent. The chain can be swapped, as a rotation would.
type tlsServer struct {
	addr  string
	chain atomic.Pointer[tls.Certificate]
	mu    sync.Mutex
	sni   []string
	alpn  [][]string
}

// serveChain serves chain (leaf first, as sent; the leaf's key signs).
func serveChain(t testing.TB, chain ...*testpki.Pair) *tlsServer {
	t.Helper()
	s := &tlsServer{}
	s.setChain(chain...)
	cfg := &tls.Config{
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			s.mu.Lock()
			s.sni = append(s.sni, hello.ServerName)
			s.alpn = append(s.alpn, hello.SupportedProtos)
			s.mu.Unlock()
			return s.chain.Load(), nil
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				_ = conn.(*tls.Conn).HandshakeContext(context.Background())
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

func (s *tlsServer) setChain(chain ...*testpki.Pair) {
	c := chain[0].TLSCertificate(chain[1:]...)
	s.chain.Store(&c)
}

func (s *tlsServer) url() string { return "https://" + s.addr }

func (s *tlsServer) sentSNI() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.sni...)
}

func (s *tlsServer) sentALPN() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string{}, s.alpn...)
}

// silentServer accepts TCP connections and never answers, like a
// firewall or a proxy that lost its backend.
func silentServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "https://" + ln.Addr().String()
}

// closedPort returns an https URL on a port nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "https://" + addr
}

// requireKind fails unless err is a *Error of kind want, and returns it.
func requireKind(t testing.TB, err error, want Kind) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a %v error", want)
	}
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *trust.Error", err, err)
	}
	if te.Kind != want {
		t.Fatalf("kind = %v, want %v; error: %v", te.Kind, want, err)
	}
	return te
}
