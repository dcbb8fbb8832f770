package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// TestDoctorSendsTheTokenOnlyWhereItMustGo: /version gets no token, the
// identity check gets it over a handshake checked against the pins, and an
// overridden cluster entry gets nothing.
func TestDoctorSendsTheTokenOnlyWhereItMustGo(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	api := newAuthRecorder(t, cmdtest.NewPair(t, root, "kapi", cmdtest.TestHost), root)
	ctx := context.Background()

	t.Run("bound", func(t *testing.T) {
		o, st := doctorAt(api.srv.URL, cmdtest.TestHost, root.CertPEM, root)
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
		o, st := doctorAt(api.srv.URL, "evil.example", root.CertPEM, root)
		c := o.checkBinding(ctx, st)
		if c.Status != "fail" || !strings.Contains(c.Detail, "evil.example") || !strings.Contains(c.Fix, "kubectl securekapi use c") {
			t.Fatalf("checkBinding = %+v, want a failure naming evil.example and the use command", c)
		}
	})

	// The kubeconfig trusts a rogue root beside the pinned one, and the
	// server presents a chain from it. Even with the binding step bypassed,
	// the request refuses a handshake whose chain misses the pins.
	t.Run("rogue chain on the wire", func(t *testing.T) {
		rogue := cmdtest.NewPair(t, nil, "Rogue Root")
		mitm := newAuthRecorder(t, cmdtest.NewPair(t, rogue, "kapi", cmdtest.TestHost), rogue)
		bundle := append(append([]byte{}, root.CertPEM...), rogue.CertPEM...)
		o, st := doctorAt(mitm.srv.URL, cmdtest.TestHost, bundle, root)
		if c := o.checkBinding(ctx, st); c.Status != "fail" || !strings.Contains(c.Detail, "Rogue Root") {
			t.Fatalf("checkBinding = %+v, want a failure naming the rogue root", c)
		}
		pins, _ := pinning.ParsePins(st.access.Pins)
		st.binding.Server, st.binding.TLSServerName, st.binding.Pins = mitm.srv.URL, cmdtest.TestHost, pins
		if c := o.checkWhoami(ctx, st); c.Status != "fail" {
			t.Fatalf("checkWhoami over a rogue chain = %+v, want a failure", c)
		}
		if c := o.checkWatch(ctx, st); c.Status != "fail" {
			t.Fatalf("checkWatch over a rogue chain = %+v, want a failure", c)
		}
		if c := o.checkUpgrade(ctx, st); c.Status != "fail" {
			t.Fatalf("checkUpgrade over a rogue chain = %+v, want a failure", c)
		}
		if got := mitm.received(); len(got) != 0 {
			t.Fatalf("the rogue server received %q", got)
		}
	})

	// The attacker holds a certificate from the pinned CA for another
	// name: the binding's name, checked on the handshake, keeps it out.
	t.Run("pinned-CA certificate for another name on the wire", func(t *testing.T) {
		mitm := newAuthRecorder(t, cmdtest.NewPair(t, root, "evil", "evil.example"), root)
		o, st := doctorAt(mitm.srv.URL, cmdtest.TestHost, root.CertPEM, root)
		pins, _ := pinning.ParsePins(st.access.Pins)
		st.binding.Server, st.binding.TLSServerName, st.binding.Pins = mitm.srv.URL, cmdtest.TestHost, pins
		expectAPIChecksFail(t, o, st, "a certificate for evil.example")
		if got := mitm.received(); len(got) != 0 {
			t.Fatalf("the server for another name received %q", got)
		}
	})

	// The bound server redirects to another host: doctor reports the
	// redirect, and the other host hears nothing (client-go would set the
	// token again on a redirect it followed).
	t.Run("redirect to another host", func(t *testing.T) {
		var elsewhere atomic.Int32
		collector := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
		t.Cleanup(collector.Close)
		redirecting := newAuthRecorder(t, cmdtest.NewPair(t, root, "kapi", cmdtest.TestHost), root)
		redirecting.serve = func(w http.ResponseWriter, r *http.Request) bool {
			code := http.StatusFound
			if r.Method == http.MethodPost {
				code = http.StatusTemporaryRedirect
			}
			http.Redirect(w, r, collector.URL+r.URL.RequestURI(), code)
			return true
		}
		o, st := bound(t, redirecting, root)
		for name, check := range map[string]func(context.Context, *doctorState) Check{
			"whoami": o.checkWhoami, "watch": o.checkWatch, "upgrade": o.checkUpgrade} {
			if c := check(ctx, st); c.Status != StatusFail || !strings.Contains(c.Detail, "30") || !strings.Contains(c.Detail, "not the API server") {
				t.Errorf("%s redirected = %+v, want a failure naming the redirect as not the API server's", name, c)
			}
		}
		if n := elsewhere.Load(); n != 0 {
			t.Fatalf("the redirect target received %d requests", n)
		}
	})
}
