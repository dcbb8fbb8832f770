package kubeapi

import (
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

const boundName = "kapi.example.test"

// recorder is an HTTP(S) server that records the Authorization header of
// every request it receives.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
}

// record serves over TLS as leaf (sent with ca), or plain HTTP when leaf
// is nil.
func record(t *testing.T, leaf, ca *testpki.Pair, serve http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	recording := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auth = append(r.auth, req.Method+" "+req.URL.Path+" "+req.Header.Get("Authorization"))
		r.mu.Unlock()
		serve(w, req)
	})
	if leaf == nil {
		r.srv = httptest.NewServer(recording)
		t.Cleanup(r.srv.Close)
	} else {
		r.srv = testpki.NewTLSServer(t, recording, leaf, ca)
	}
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.auth...)
}

// pinned is the client doctor builds: the bundle trusts root and rogue,
// the binding pins root and names boundName.
func pinned(t *testing.T, server string, root, rogue *testpki.Pair, token string) *REST {
	t.Helper()
	c, err := NewPinned(Pinned{Server: server, Token: token, Policy: trust.Policy{
		CABundle: []*x509.Certificate{root.Cert, rogue.Cert}, Pins: []pinning.Pin{trust.PinFor(root.Cert)},
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
