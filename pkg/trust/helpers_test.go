package trust

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testNow is the clock every test verifies at; certificates are dated
// around it, so no test depends on the real time.
var testNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// keyPair is a certificate with the key that can sign for it.
type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// certSpec describes a certificate to issue; zero fields get sensible
// defaults (valid a day around testNow, issued by itself).
type certSpec struct {
	cn        string
	ca        bool
	dnsNames  []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
	issuer    *keyPair
	usages    []x509.ExtKeyUsage // default: server auth for a leaf
	key       *ecdsa.PrivateKey  // default: a new key
}

func issue(t testing.TB, s certSpec) *keyPair {
	t.Helper()
	key := s.key
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             orTime(s.notBefore, testNow.Add(-time.Hour)),
		NotAfter:              orTime(s.notAfter, testNow.Add(24*time.Hour)),
		DNSNames:              s.dnsNames,
		IPAddresses:           s.ips,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
	}
	if s.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = s.usages
		if tmpl.ExtKeyUsage == nil {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
	}
	parent, signer := tmpl, key
	if s.issuer != nil {
		parent, signer = s.issuer.cert, s.issuer.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &keyPair{cert: cert, key: key}
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func newRoot(t testing.TB, cn string) *keyPair {
	return issue(t, certSpec{cn: cn, ca: true})
}

func newIntermediate(t testing.TB, cn string, issuer *keyPair) *keyPair {
	return issue(t, certSpec{cn: cn, ca: true, issuer: issuer})
}

const testHost = "kapi.example.test"

func newLeaf(t testing.TB, issuer *keyPair) *keyPair {
	return issue(t, certSpec{cn: testHost, dnsNames: []string{testHost}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}, issuer: issuer})
}

func certsOf(pairs ...*keyPair) []*x509.Certificate {
	out := make([]*x509.Certificate, len(pairs))
	for i, p := range pairs {
		out[i] = p.cert
	}
	return out
}

func poolWith(pairs ...*keyPair) *x509.CertPool {
	return poolOf(certsOf(pairs...))
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
func serveChain(t testing.TB, chain ...*keyPair) *tlsServer {
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

func (s *tlsServer) setChain(chain ...*keyPair) {
	c := &tls.Certificate{PrivateKey: chain[0].key, Leaf: chain[0].cert}
	for _, p := range chain {
		c.Certificate = append(c.Certificate, p.cert.Raw)
	}
	s.chain.Store(c)
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
