package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/trust"
)

// authRecorder is an API server that records the Authorization header of
// every request by path.
type authRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth map[string][]string
	// serve, when set, answers the paths it knows (it returns true).
	serve func(w http.ResponseWriter, r *http.Request) bool
}

func newAuthRecorder(t *testing.T, leaf, issuer *testpki.Pair) *authRecorder {
	t.Helper()
	a := &authRecorder{auth: map[string][]string{}}
	a.srv = testpki.NewTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.auth[r.URL.Path] = append(a.auth[r.URL.Path], r.Header.Get("Authorization"))
		serve := a.serve
		a.mu.Unlock()
		if serve != nil && serve(w, r) {
			return
		}
		if r.URL.Path == "/version" {
			w.Write([]byte(`{"gitVersion":"v1.32.4"}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"status":{"userInfo":{"username":"alice@example.test","groups":["readers"]}}}`))
	}), leaf, issuer)
	return a
}

// received is every request's path and Authorization header.
func (a *authRecorder) received() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []string
	for path, auth := range a.auth {
		for _, h := range auth {
			all = append(all, path+" "+h)
		}
	}
	return all
}

func (a *authRecorder) headers(path string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.auth[path]
}

// doctorAt is doctor's state after the kubeconfig step: a cluster entry
// trusting caPEM for name, and exec args bound to server, name and pinned.
func doctorAt(server, name string, caPEM []byte, pinned *testpki.Pair) (*DoctorOptions, *doctorState) {
	certs, _ := trust.ParsePEMCertificates(caPEM)
	st := &doctorState{
		entryRead: true,
		cluster:   &clientcmdapi.Cluster{Server: server, TLSServerName: name, CertificateAuthorityData: caPEM},
		access: &cmdutil.AccessFlags{Flags: access.Flags{Cluster: "c", Server: server, TLSServerName: cmdtest.TestHost,
			Pins: []string{string(trust.PinFor(pinned.Cert))}}},
		caCerts:   certs,
		token:     "eyJ.SECRET.token",
		namespace: "default",
	}
	o := newDoctorOptions(cmdtest.Factory(nil))
	o.Timeout, o.WatchTime = 5*time.Second, 2*time.Second
	return o, st
}

// bound is doctor's state against api after the binding check passed.
func bound(t *testing.T, api *authRecorder, root *testpki.Pair) (*DoctorOptions, *doctorState) {
	t.Helper()
	o, st := doctorAt(api.srv.URL, cmdtest.TestHost, root.CertPEM, root)
	if c := o.checkBinding(context.Background(), st); c.Status != "ok" {
		t.Fatalf("checkBinding = %+v", c)
	}
	return o, st
}

// expectAPIChecksFail runs every check that talks to the API server and
// wants each to fail: what sits on the wire is not the bound server.
func expectAPIChecksFail(t *testing.T, o *DoctorOptions, st *doctorState, against string) {
	t.Helper()
	for name, check := range map[string]func(context.Context, *doctorState) Check{
		"version": o.checkVersion, "whoami": o.checkWhoami, "watch": o.checkWatch, "upgrade": o.checkUpgrade} {
		if c := check(context.Background(), st); c.Status != StatusFail {
			t.Errorf("%s against %s = %+v, want a failure", name, against, c)
		}
	}
}

func writeStatus(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":%q,"code":%d}`, reason, code)
}

// TestDoctorDiagnosesARejectedToken: a 401 is blamed on the token, with
// the claim it lacks and the scope that brings it.
func TestDoctorDiagnosesARejectedToken(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	api := newAuthRecorder(t, cmdtest.NewPair(t, root, "kapi", cmdtest.TestHost), root)
	api.serve = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "selfsubjectreviews") {
			writeStatus(w, http.StatusUnauthorized, "Unauthorized")
			return true
		}
		return false
	}
	o, st := bound(t, api, root)
	st.access.Issuer, st.access.ClientID, st.access.ExtraScopes = "https://issuer.test/dex", "kapi", []string{"groups"}
	st.claims = &token.Claims{Issuer: "https://issuer.test/dex", Subject: "Cg1zdWI", Audience: []string{"kapi"}, Groups: []string{"readers"}, Expiry: time.Now().Add(time.Hour)}

	c := o.checkWhoami(context.Background(), st)
	for _, want := range []string{"API server rejected the token", "no `email` claim", "openid groups"} {
		if c.Status != "fail" || !strings.Contains(c.Detail, want) {
			t.Errorf("checkWhoami = %+v, want a failure saying %q", c, want)
		}
	}
	if !strings.Contains(c.Fix, "--oidc-extra-scope email") {
		t.Errorf("fix %q does not name --oidc-extra-scope email", c.Fix)
	}
	if strings.Contains(c.Detail, "issuer \"") || strings.Contains(c.Detail, "audience") {
		t.Errorf("matching issuer and audience blamed: %s", c.Detail)
	}

	st.claims.Email, st.claims.Issuer = "alice@example.test", "https://other.test"
	c = o.checkWhoami(context.Background(), st)
	if !strings.Contains(c.Detail, `"https://other.test" is not the --oidc-issuer-url`) || strings.Contains(c.Detail, "email") {
		t.Errorf("checkWhoami with another issuer = %+v", c)
	}
}

// TestDoctorNamesTheSubjectWithoutEmail: the token line never starts with
// a bare ", valid until".
func TestDoctorNamesTheSubjectWithoutEmail(t *testing.T) {
	if got := tokenHolder(&token.Claims{Subject: "Cg1zdWI"}); got != "subject Cg1zdWI (no email claim)" {
		t.Errorf("tokenHolder = %q", got)
	}
	if got := tokenHolder(&token.Claims{Subject: "Cg1zdWI", Email: "a@b.test"}); got != "a@b.test" {
		t.Errorf("tokenHolder = %q", got)
	}
}

// TestDoctorStreamingProbe drives the watch and upgrade checks against a
// healthy API server, a hop that cuts idle streams and a hop that answers
// upgrades itself.
func TestDoctorStreamingProbe(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	api := newAuthRecorder(t, cmdtest.NewPair(t, root, "kapi", cmdtest.TestHost), root)
	var cutAfter atomic.Int64 // nanoseconds; 0 holds the watch
	var proxyAnswersUpgrade atomic.Bool
	var upgradeHeader atomic.Value
	api.serve = func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.URL.Path == "/api/v1/namespaces/default/pods" && r.URL.Query().Get("watch") == "true":
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			wait := 10 * time.Second
			if d := time.Duration(cutAfter.Load()); d > 0 {
				wait = d
			}
			select {
			case <-r.Context().Done():
			case <-time.After(wait):
			}
			return true
		case strings.HasSuffix(r.URL.Path, "/pods/"+probePod+"/exec"):
			upgradeHeader.Store(r.Header.Get("Upgrade"))
			if proxyAnswersUpgrade.Load() {
				w.WriteHeader(http.StatusBadGateway)
				w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
				return true
			}
			writeStatus(w, http.StatusForbidden, "Forbidden")
			return true
		}
		return false
	}
	o, st := bound(t, api, root)
	ctx := context.Background()

	if c := o.checkWatch(ctx, st); c.Status != "ok" {
		t.Errorf("healthy watch = %+v, want ok", c)
	}
	if c := o.checkUpgrade(ctx, st); c.Status != "ok" || !strings.Contains(c.Detail, "403") || upgradeHeader.Load() != "websocket" {
		t.Errorf("healthy upgrade = %+v (Upgrade: %q), want ok naming 403", c, upgradeHeader.Load())
	}
	if got := api.headers("/api/v1/namespaces/default/pods"); len(got) != 1 || got[0] != "Bearer eyJ.SECRET.token" {
		t.Errorf("watch Authorization %q", got)
	}

	cutAfter.Store(int64(500 * time.Millisecond))
	proxyAnswersUpgrade.Store(true)
	if c := o.checkWatch(ctx, st); c.Status != "fail" || !strings.Contains(c.Fix, "timeout server") || !strings.Contains(c.Detail, "cuts idle connections") {
		t.Errorf("cut watch = %+v, want a failure naming the timeout", c)
	}
	if c := o.checkUpgrade(ctx, st); c.Status != "fail" || !strings.Contains(c.Detail, "502") || !strings.Contains(c.Detail, "not the API server") {
		t.Errorf("proxy-answered upgrade = %+v, want a failure", c)
	}

	o.Quick = true
	if c := o.checkWatch(ctx, st); c.Status != "skip" {
		t.Errorf("--quick watch = %+v, want skip", c)
	}
}
