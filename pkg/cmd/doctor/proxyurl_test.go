package doctor

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/proxydial/proxytest"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// proxiedServer is an API server URL only a proxy can reach: .invalid
// never resolves, so a direct dial fails.
const proxiedServer = "https://kapi.proxied.invalid"

// behindProxy is doctor's state after the kubeconfig step for a cluster
// whose proxy-url is proxyURL, bound to proxiedServer and root's pin.
func behindProxy(t *testing.T, root *testpki.Pair, caPEM []byte, proxyURL string) (*DoctorOptions, *doctorState) {
	t.Helper()
	o, st := doctorAt(proxiedServer, cmdtest.TestHost, caPEM, root)
	st.cluster.ProxyURL = proxyURL
	var err error
	if st.proxyURL, st.proxySource, err = o.clusterProxy(st.cluster); err != nil {
		t.Fatal(err)
	}
	return o, st
}

// relayTo is a proxy Route sending every tunnel to srv's listener.
func relayTo(a *authRecorder) func(*proxytest.Proxy) {
	return func(p *proxytest.Proxy) { p.Route = func(string) string { return a.srv.Listener.Addr().String() } }
}

// TestDoctorGoesThroughTheProxyURL: the cluster's proxy-url carries every
// check, with the credentials from its userinfo, and the password never
// shows.
func TestDoctorGoesThroughTheProxyURL(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	api := newAuthRecorder(t, cmdtest.NewPair(t, root, "kapi", cmdtest.TestHost), root)
	proxy := proxytest.Start(t, nil, relayTo(api))
	o, st := behindProxy(t, root, root.CertPEM, "http://alice:s3cret@"+proxy.Addr)
	ctx := context.Background()

	dial := o.checkDial(ctx, st)
	if want := "through proxy http://alice:xxxxx@" + proxy.Addr + " (kubeconfig proxy-url)"; dial.Status != StatusOK || !strings.Contains(dial.Detail, want) {
		t.Fatalf("checkDial = %+v, want ok saying %q", dial, want)
	}
	// In order: the binding check lets the token go.
	for i, check := range []func(context.Context, *doctorState) Check{o.checkTLS, o.checkBinding, o.checkVersion, o.checkWhoami} {
		// The test certificate expires within the hour: the TLS check warns.
		if c := check(ctx, st); (c.Status != StatusOK && c.Status != StatusWarn) || strings.Contains(c.Detail+c.Fix, "s3cret") {
			t.Errorf("check %d through the proxy = %+v, want ok without the password", i, c)
		}
	}
	reqs := proxy.Requests()
	if len(reqs) < 4 { // dial, TLS, /version, SelfSubjectReview
		t.Fatalf("the proxy saw %d CONNECTs, want one per check", len(reqs))
	}
	for _, r := range reqs {
		if r.Target != "kapi.proxied.invalid:443" || r.ProxyAuthorization != "Basic YWxpY2U6czNjcmV0" {
			t.Errorf("the proxy saw %+v, want CONNECT kapi.proxied.invalid:443 with alice's credentials", r)
		}
	}
	if got := api.headers("/apis/authentication.k8s.io/v1/selfsubjectreviews"); len(got) != 1 || got[0] != "Bearer eyJ.SECRET.token" {
		t.Errorf("SelfSubjectReview through the proxy got Authorization %q, want the token", got)
	}
}

// TestDoctorSendsNoTokenToATLSTerminatingProxy: the proxy answers CONNECT
// and then speaks TLS itself, with a certificate the kubeconfig's bundle
// trusts but the pin does not, or one from the pinned CA for another name.
// Each check's own handshake is checked against the pins and the bound
// name inside the tunnel, so the proxy hears no request, let alone the
// token; and the TLS check names the proxy.
func TestDoctorSendsNoTokenToATLSTerminatingProxy(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	rogue := cmdtest.NewPair(t, nil, "Inspection Root")
	bundle := append(append([]byte{}, root.CertPEM...), rogue.CertPEM...)
	for name, tc := range map[string]struct {
		leaf, issuer *testpki.Pair
		caPEM        []byte
	}{
		"certificate from an unpinned CA in the bundle": {cmdtest.NewPair(t, rogue, "kapi", cmdtest.TestHost), rogue, bundle},
		"pinned CA's certificate for another name":      {cmdtest.NewPair(t, root, "evil", "evil.example"), root, root.CertPEM},
	} {
		t.Run(name, func(t *testing.T) {
			mitm := newAuthRecorder(t, tc.leaf, tc.issuer)
			proxy := proxytest.Start(t, nil, relayTo(mitm))
			o, st := behindProxy(t, root, tc.caPEM, "http://"+proxy.Addr)
			ctx := context.Background()
			if c := o.checkDial(ctx, st); c.Status != StatusOK {
				t.Fatalf("checkDial = %+v, want ok: the proxy answers", c)
			}
			c := o.checkTLS(ctx, st)
			if c.Status != StatusFail || !strings.Contains(c.Detail, "through proxy http://"+proxy.Addr) || !strings.Contains(c.Fix, "terminates TLS") {
				t.Errorf("checkTLS = %+v, want a failure naming the proxy", c)
			}
			// Even past the binding step (bypassed here), every request
			// refuses the proxy's handshake.
			pins, _ := pinning.ParsePins(st.access.Pins)
			st.binding.Server, st.binding.TLSServerName, st.binding.Pins = proxiedServer, cmdtest.TestHost, pins
			expectAPIChecksFail(t, o, st, "the TLS-terminating proxy")
			if got := mitm.received(); len(got) != 0 {
				t.Fatalf("the TLS-terminating proxy received %q", got)
			}
			if len(proxy.Requests()) < 5 {
				t.Fatalf("the proxy saw %d CONNECTs: the checks did not go through it", len(proxy.Requests()))
			}
		})
	}
}

// TestDoctorNamesWhatTheProxyRefused: a refusal is the proxy's to fix
// (credentials, its allow list, its address); a proxy that cannot reach
// the endpoint points at the endpoint.
func TestDoctorNamesWhatTheProxyRefused(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closed.Close() // nothing listens there now
	for _, tc := range []struct {
		answer  string
		fix     string
		address string // the proxy's, when no proxytest answers
	}{
		{answer: "HTTP/1.1 407 Proxy Authentication Required\r\nX-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\n\r\n", fix: "wants credentials: put them in the cluster's proxy-url (http://USER:PASSWORD@"},
		{answer: "HTTP/1.1 403 Forbidden\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n\r\n", fix: "allow list"},
		{answer: "HTTP/1.1 503 Service Unavailable\r\nX-Squid-Error: ERR_CONNECT_FAIL 111\r\n\r\n", fix: "could not reach kapi.proxied.invalid:443: is the endpoint up"},
		{address: closed.Addr().String(), fix: "nothing accepts connections at " + closed.Addr().String() + ": check the address in the cluster's proxy-url"},
	} {
		addr := tc.address
		if addr == "" {
			addr = proxytest.Start(t, nil, func(p *proxytest.Proxy) { p.Answer = tc.answer }).Addr
		}
		o, st := behindProxy(t, root, root.CertPEM, "http://alice:s3cret@"+addr)
		c := o.checkDial(context.Background(), st)
		if c.Status != StatusFail || !strings.Contains(c.Fix, tc.fix) || !strings.Contains(c.Detail, "through proxy http://alice:xxxxx@"+addr) {
			t.Errorf("proxy %q: checkDial = %+v, want a failure naming the proxy and the fix %q", tc.answer, c, tc.fix)
		}
		if strings.Contains(c.Detail+c.Fix, "s3cret") {
			t.Errorf("the proxy's password is in %+v", c)
		}
	}

	if _, err := parseProxyURL("ftp://alice:s3cret@proxy.corp:21"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("an ftp proxy-url: %v, want kubectl's refusal without the password", err)
	}
}

// TestDoctorPicksTheProxyKubectlPicks: proxy-url first, else the
// environment's proxy for the server (NO_PROXY honoured, loopback never
// proxied), as client-go's http.ProxyFromEnvironment does.
func TestDoctorPicksTheProxyKubectlPicks(t *testing.T) {
	for _, tc := range []struct {
		server, proxyURL string
		env              map[string]string
		want, source     string
	}{
		{server: proxiedServer, proxyURL: "socks5://proxy.corp:1080", env: map[string]string{"HTTPS_PROXY": "http://env.corp:3128"}, want: "socks5://proxy.corp:1080", source: "kubeconfig proxy-url"},
		{server: proxiedServer, env: map[string]string{"https_proxy": "http://env.corp:3128"}, want: "http://env.corp:3128", source: "HTTPS_PROXY"},
		{server: proxiedServer, env: map[string]string{"HTTPS_PROXY": "http://env.corp:3128", "NO_PROXY": ".invalid"}},
		{server: "https://127.0.0.1:6443", env: map[string]string{"HTTPS_PROXY": "http://env.corp:3128"}},
		{server: proxiedServer},
	} {
		o, st := doctorAt(tc.server, cmdtest.TestHost, nil, cmdtest.NewPair(t, nil, "Enterprise Root"))
		o.Getenv = func(k string) string { return tc.env[k] }
		st.cluster.ProxyURL = tc.proxyURL
		u, source, err := o.clusterProxy(st.cluster)
		got := ""
		if u != nil {
			got = u.String()
		}
		if err != nil || got != tc.want || source != tc.source {
			t.Errorf("%s with proxy-url %q and %v: %q from %q (%v), want %q from %q", tc.server, tc.proxyURL, tc.env, got, source, err, tc.want, tc.source)
		}
	}

	// Through HTTPS_PROXY, the fixes name the variable.
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	refusing := proxytest.Start(t, nil, func(p *proxytest.Proxy) { p.Answer = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n" })
	o, st := doctorAt(proxiedServer, cmdtest.TestHost, root.CertPEM, root)
	o.Getenv = func(k string) string { return map[string]string{"HTTPS_PROXY": "http://" + refusing.Addr}[k] }
	st.proxyURL, st.proxySource, _ = o.clusterProxy(st.cluster)
	if c := o.checkDial(context.Background(), st); c.Status != StatusFail || !strings.Contains(c.Detail, "(HTTPS_PROXY)") || !strings.Contains(c.Fix, "put them in HTTPS_PROXY") {
		t.Errorf("checkDial through a refusing HTTPS_PROXY = %+v", c)
	}
}

// TestDoctorSaysKubectlUsesTheProxyURLBesideATunnel: with both, doctor
// checks the tunnel (what `run` and `proxy` use) and warns that kubectl
// on this kubeconfig goes through the proxy-url instead.
func TestDoctorSaysKubectlUsesTheProxyURLBesideATunnel(t *testing.T) {
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	_, st := behindProxy(t, root, root.CertPEM, "http://proxy.corp:3128")
	c := tunnelBesideProxyURL(ok("gateway gw:443 (connect mode) accepted the client certificate"), st)
	if c.Status != StatusWarn || !strings.Contains(c.Detail, "kubectl on this kubeconfig goes through that proxy, not the tunnel") || !strings.Contains(c.Fix, "kubectl securekapi run c --") {
		t.Errorf("tunnel beside proxy-url = %+v, want a warning saying kubectl takes the proxy", c)
	}
	skip := tunnelBesideProxyURL(Check{Status: StatusSkip, Detail: "no tunnel configured for this cluster"}, st)
	if skip.Status != StatusSkip || !strings.Contains(skip.Detail, "proxy-url http://proxy.corp:3128") {
		t.Errorf("no tunnel, proxy-url = %+v", skip)
	}
}
