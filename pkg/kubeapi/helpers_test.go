package kubeapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/trust"
)

const boundName = "kapi.example.test"

type pair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newPair is a CA (no names) or a server certificate for names, signed by
// parent (nil: self-signed).
func newPair(t *testing.T, parent *pair, cn string, names ...string) *pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if len(names) == 0 {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pair{cert: cert, key: key}
}

// recorder is an HTTP(S) server that records the Authorization header of
// every request it receives.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
}

func record(t *testing.T, leaf, ca *pair, serve http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auth = append(r.auth, req.Method+" "+req.URL.Path+" "+req.Header.Get("Authorization"))
		r.mu.Unlock()
		serve(w, req)
	}))
	// A refused handshake is what these servers expect to see.
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if leaf == nil {
		r.srv.Start()
	} else {
		r.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.cert.Raw, ca.cert.Raw}, PrivateKey: leaf.key}}}
		r.srv.StartTLS()
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.auth...)
}

// pinned is the client doctor builds: the bundle trusts root and rogue,
// the binding pins root and names boundName.
func pinned(t *testing.T, server string, root, rogue *pair, token string) *REST {
	t.Helper()
	c, err := NewPinned(Pinned{Server: server, Token: token, Policy: trust.Policy{
		CABundle: []*x509.Certificate{root.cert, rogue.cert}, Pins: []trust.Pin{trust.PinFor(root.cert)},
		ServerName: boundName, Now: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func healthyAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/version":
		io.WriteString(w, `{"major":"1","minor":"32","gitVersion":"v1.32.4"}`)
	case strings.HasSuffix(r.URL.Path, "/selfsubjectreviews"):
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"status":{"userInfo":{"username":"alice@example.test","groups":["readers"]}}}`)
	case r.URL.Query().Get("watch") == "true":
		io.WriteString(w, `{"type":"ADDED"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	}
}
