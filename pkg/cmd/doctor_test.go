package cmd

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/trust"
)

// authRecorder is an API server that records the Authorization header of
// every request by path.
type authRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth map[string][]string
}

func newAuthRecorder(t *testing.T, leaf, issuer *pair) *authRecorder {
	t.Helper()
	a := &authRecorder{auth: map[string][]string{}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.auth[r.URL.Path] = append(a.auth[r.URL.Path], r.Header.Get("Authorization"))
		a.mu.Unlock()
		if r.URL.Path == "/version" {
			w.Write([]byte(`{"gitVersion":"v1.32.4"}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"status":{"userInfo":{"username":"alice@example.test","groups":["readers"]}}}`))
	}))
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.cert.Raw, issuer.cert.Raw}, PrivateKey: leaf.key}}}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *authRecorder) headers(path string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.auth[path]
}

// doctorAt is doctor's state after the kubeconfig step: a cluster entry
// trusting caPEM for name, and exec args bound to server, name and pinned.
func doctorAt(server, name string, caPEM []byte, pinned *pair) (*DoctorOptions, *doctorState) {
	certs, _ := trust.ParsePEMCertificates(caPEM)
	st := &doctorState{
		cluster: &clientcmdapi.Cluster{Server: server, TLSServerName: name, CertificateAuthorityData: caPEM},
		access: &AccessFlags{access.Flags{Cluster: "c", Server: server, TLSServerName: testHost,
			Pins: []string{string(trust.PinFor(pinned.cert))}}},
		caCerts: certs,
		token:   "eyJ.SECRET.token",
	}
	return &DoctorOptions{GlobalOptions: &GlobalOptions{Getenv: func(string) string { return "" }, Now: time.Now}, Timeout: 5 * time.Second}, st
}

// TestDoctorSendsTheTokenOnlyWhereItMustGo: /version gets no token, the
// identity check gets it over a handshake checked against the pins, and an
// overridden cluster entry gets nothing.
func TestDoctorSendsTheTokenOnlyWhereItMustGo(t *testing.T) {
	root := newPair(t, nil, "Enterprise Root")
	api := newAuthRecorder(t, newPair(t, root, "kapi", testHost), root)
	ctx := context.Background()

	t.Run("bound", func(t *testing.T) {
		o, st := doctorAt(api.srv.URL, testHost, root.certPEM, root)
		for _, check := range []func(context.Context, *doctorState) Check{o.checkBinding, o.checkVersion, o.checkWhoami} {
			if c := check(ctx, st); c.Status != "ok" {
				t.Fatalf("check = %+v, want ok", c)
			}
		}
		if got := api.headers("/version"); len(got) != 1 || got[0] != "" {
			t.Errorf("/version got Authorization %q, want none", got)
		}
		if got := api.headers("/apis/authentication.k8s.io/v1/selfsubjectreviews"); len(got) != 1 || got[0] != "Bearer eyJ.SECRET.token" {
			t.Errorf("SelfSubjectReview got Authorization %q, want the token", got)
		}
	})

	// A CA that signs many hosts: the entry names another of them.
	t.Run("overridden name", func(t *testing.T) {
		o, st := doctorAt(api.srv.URL, "evil.example", root.certPEM, root)
		c := o.checkBinding(ctx, st)
		if c.Status != "fail" || !strings.Contains(c.Detail, "evil.example") || !strings.Contains(c.Fix, "kubectl securekapi use c") {
			t.Fatalf("checkBinding = %+v, want a failure naming evil.example and the use command", c)
		}
	})

	// The kubeconfig trusts a rogue root beside the pinned one, and the
	// server presents a chain from it. Even with the binding step bypassed,
	// the request refuses a handshake whose chain misses the pins.
	t.Run("rogue chain on the wire", func(t *testing.T) {
		rogue := newPair(t, nil, "Rogue Root")
		mitm := newAuthRecorder(t, newPair(t, rogue, "kapi", testHost), rogue)
		bundle := append(append([]byte{}, root.certPEM...), rogue.certPEM...)
		o, st := doctorAt(mitm.srv.URL, testHost, bundle, root)
		if c := o.checkBinding(ctx, st); c.Status != "fail" || !strings.Contains(c.Detail, "Rogue Root") {
			t.Fatalf("checkBinding = %+v, want a failure naming the rogue root", c)
		}
		pins, _ := trust.ParsePins(st.access.Pins)
		st.binding.Server, st.binding.TLSServerName, st.binding.Pins = mitm.srv.URL, testHost, pins
		if c := o.checkWhoami(ctx, st); c.Status != "fail" {
			t.Fatalf("checkWhoami over a rogue chain = %+v, want a failure", c)
		}
		if got := mitm.headers("/apis/authentication.k8s.io/v1/selfsubjectreviews"); len(got) != 0 {
			t.Fatalf("the rogue server received %q", got)
		}
	})
}
