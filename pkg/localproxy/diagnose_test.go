package localproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
)

// extPreSharedKey is the TLS 1.3 extension a ClientHello resuming a
// session carries.
const extPreSharedKey = 41

// startGatewayTLS starts a fake gateway whose TLS settings tweak changes
// from those of startGateway.
func (e *env) startGatewayTLS(mode Mode, backend string, tweak func(*tls.Config)) *fakeGateway {
	e.t.Helper()
	cfg := &tls.Config{
		Certificates: []tls.Certificate{e.gatewayCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    testpki.Pool(e.clientCA),
	}
	tweak(cfg)
	g := &fakeGateway{mode: mode, routes: e.routes, backend: backend}
	g.tcpServer = serveTCP(e.t, tls.NewListener(listenLoopback(e.t), cfg), g.handle)
	return g
}

// refuseResumption makes the gateway answer every resumed handshake with
// an internal_error alert, as OpenSSL does when it verifies client
// certificates without a session ID context (Squid without sslcontext=).
// It counts the refusals.
func refuseResumption(refusals *atomic.Int64) func(*tls.Config) {
	return func(cfg *tls.Config) {
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			if slices.Contains(hello.Extensions, extPreSharedKey) {
				refusals.Add(1)
				return nil, errors.New("session id context uninitialized")
			}
			return nil, nil
		}
	}
}

// TestGatewayRefusingResumption: every tunnel works through a gateway that
// refuses resumed handshakes; after the first refusal no session is
// offered again, and the debug log says once how to fix the gateway.
func TestGatewayRefusingResumption(t *testing.T) {
	for _, mode := range []Mode{ModeConnect, ModeDirect} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t)
			var refusals atomic.Int64
			gw := e.startGatewayTLS(mode, e.apiServer.Listener.Addr().String(), refuseResumption(&refusals))
			p := e.startProxy(e.config(gw.addr(), mode))
			for i := range 5 {
				if body, err := e.getAPI(p); err != nil || body != apiGreeting {
					t.Fatalf("request %d through the gateway: %q, %v\nlog:\n%s", i+1, body, err, e.logs.String())
				}
			}
			if n := refusals.Load(); n != 1 {
				t.Errorf("the gateway refused %d resumed handshakes, want exactly 1 (then no more offers)", n)
			}
			logs := e.logs.String()
			if n := strings.Count(logs, "gateway refused to resume a TLS session"); n != 1 || !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "sslcontext=") {
				t.Errorf("want one debug line with the sslcontext hint, got %d; log:\n%s", n, logs)
			}
			if strings.Contains(logs, "level=WARN") {
				t.Errorf("a recovered refusal should not warn; log:\n%s", logs)
			}
		})
	}
}

// TestGatewayResumingSessions: a gateway that resumes keeps being offered
// sessions (the retry is only for refusals).
func TestGatewayResumingSessions(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(ModeConnect, "", "")
	p := e.startProxy(e.config(gw.addr(), ModeConnect))
	check, err := p.CheckGateway(t.Context(), apiTarget)
	if err != nil {
		t.Fatal(err)
	}
	if want := (GatewayCheck{ClientCertRequested: true, Resumed: true}); check != want {
		t.Errorf("CheckGateway = %+v, want %+v", check, want)
	}
}

// TestCheckGatewayReportsRefusedResumption is what doctor shows.
func TestCheckGatewayReportsRefusedResumption(t *testing.T) {
	e := newEnv(t)
	var refusals atomic.Int64
	gw := e.startGatewayTLS(ModeConnect, "", refuseResumption(&refusals))
	p := e.startProxy(e.config(gw.addr(), ModeConnect))
	check, err := p.CheckGateway(t.Context(), apiTarget)
	if err != nil {
		t.Fatal(err)
	}
	if want := (GatewayCheck{ClientCertRequested: true, ResumptionRefused: true}); check != want {
		t.Errorf("CheckGateway = %+v, want %+v", check, want)
	}
}

// TestCheckGatewayNotEnforcingMutualTLS: a gateway that never asks for a
// client certificate is reported, though tunnels work.
func TestCheckGatewayNotEnforcingMutualTLS(t *testing.T) {
	e := newEnv(t)
	gw := e.startGatewayTLS(ModeConnect, "", func(c *tls.Config) { c.ClientAuth = tls.NoClientCert })
	p := e.startProxy(e.config(gw.addr(), ModeConnect))
	check, err := p.CheckGateway(t.Context(), apiTarget)
	if err != nil {
		t.Fatal(err)
	}
	if check.ClientCertRequested {
		t.Errorf("CheckGateway = %+v, want ClientCertRequested false", check)
	}
}

// TestGatewayDiagnosis: each way a gateway refuses us gets its own
// diagnosis, naming the gateway settings to check, in the 502 kubectl
// shows and in CheckGateway's error (which doctor shows).
func TestGatewayDiagnosis(t *testing.T) {
	cases := []struct {
		name    string
		gateway func(e *env) string
		want    GatewayFailure
		words   []string
	}{{
		name: "no certificate requested",
		gateway: func(e *env) string {
			// Refuses at the ClientHello, before any CertificateRequest.
			return e.startGatewayTLS(ModeConnect, "", func(c *tls.Config) {
				c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, errors.New("no") }
			}).addr()
		},
		want:  FailureNoCertRequested,
		words: []string{"did not ask for a client certificate", "ssl_verify_client on", "verify required", "requireCert = yes", "clientca="},
	}, {
		name: "certificate rejected",
		gateway: func(e *env) string {
			return e.startGatewayTLS(ModeConnect, "", func(c *tls.Config) { c.ClientCAs = testpki.Pool(testpki.Root(e.t, "Other Client CA")) }).addr()
		},
		want:  FailureCertRejected,
		words: []string{"rejected our TLS connection", "CN=alice", "CN=Gateway Client CA", "CN=Other Client CA", "ssl_client_certificate", "ca-file", "CAfile"},
	}, {
		name: "closed before the handshake",
		gateway: func(e *env) string {
			return serveTCP(e.t, listenLoopback(e.t), func(c net.Conn) { c.Close() }).addr()
		},
		want:  FailureClosedBeforeHandshake,
		words: []string{"closed the connection before the TLS handshake", `"gateway.test"`, "strict-sni", "listen ... ssl"},
	}, {
		name: "not TLS",
		gateway: func(e *env) string {
			return serveTCP(e.t, listenLoopback(e.t), func(c net.Conn) {
				io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
				c.Close()
			}).addr()
		},
		want:  FailureNotTLS,
		words: []string{"other than TLS", "not http_port"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.startProxy(e.config(tc.gateway(e), ModeConnect))

			_, err := p.CheckGateway(t.Context(), apiTarget)
			var gwErr *GatewayError
			if !errors.As(err, &gwErr) || gwErr.Failure != tc.want {
				t.Fatalf("CheckGateway: %v (%#v), want a %q GatewayError", err, gwErr, tc.want)
			}
			tn := connect(t, p, apiTarget, p.testAuth(), "")
			expectStatus(t, tn, http.StatusBadGateway)
			body := tn.body(t)
			t.Logf("502 (%d bytes): %s", len(body), body)
			for _, w := range tc.words {
				if !strings.Contains(body, w) || !strings.Contains(gwErr.Error(), w) {
					t.Errorf("diagnosis lacks %q:\n502: %s\ncheck: %v", w, body, gwErr)
				}
			}
		})
	}
}

// TestResumedDialRetriedOnceOnly: a gateway that drops every handshake
// after the first is retried once per dial and the fresh handshake's
// diagnosis is reported, not the resumption's.
func TestResumedDialRetriedOnceOnly(t *testing.T) {
	e := newEnv(t)
	var accepted atomic.Int64
	inner := e.startGateway(ModeConnect, "", "")
	front := serveTCP(t, listenLoopback(t), func(c net.Conn) {
		defer c.Close()
		if accepted.Add(1) > 1 {
			return // drop: closed before the handshake
		}
		up, err := net.Dial("tcp", inner.addr())
		if err != nil {
			return
		}
		relay(c, up, nil)
	})
	p := e.startProxy(e.config(front.addr(), ModeConnect))
	if body, err := e.getAPI(p); err != nil || body != apiGreeting {
		t.Fatalf("first request: %q, %v", body, err)
	}
	_, err := p.dialGateway(context.Background(), apiTarget)
	var gwErr *GatewayError
	if !errors.As(err, &gwErr) || gwErr.Failure != FailureClosedBeforeHandshake {
		t.Fatalf("dial after the gateway broke: %v, want closed before the handshake", err)
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("the gateway saw %d connections, want 3 (first, resumed, one fresh retry)", n)
	}
	if p.sessionCache.Refused() {
		t.Errorf("resumption marked refused although the fresh handshake failed too")
	}
}
