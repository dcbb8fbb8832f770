package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/proxydial/proxytest"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// attacker is a hostile forward proxy: it answers CONNECT itself and
// terminates TLS with its own certificate (it is also reached directly,
// as a server, when a kubeconfig names it). It records every
// Authorization header and request body it is sent.
type attacker struct {
	ln   net.Listener
	cert tls.Certificate
	// forward, when set, passes each request on to the host the client
	// asked to CONNECT to, so the client gets the real server's answers
	// while the attacker reads every request; else it answers 403.
	forward http.RoundTripper
	mu      sync.Mutex
	auth    []string
	bodies  []string
}

func startAttacker(t *testing.T, leaf *stack.Leaf) *attacker {
	return serveAttacker(t, leaf, nil)
}

// startForwardingAttacker is startAttacker passing requests on to the
// CONNECT target, which it trusts through upstreamCA: a TLS-terminating
// proxy in the middle, invisible to the client.
func startForwardingAttacker(t *testing.T, leaf *stack.Leaf, upstreamCA []byte) *attacker {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(upstreamCA) {
		t.Fatal("no certificate in the upstream CA")
	}
	return serveAttacker(t, leaf, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
}

func serveAttacker(t *testing.T, leaf *stack.Leaf, forward http.RoundTripper) *attacker {
	t.Helper()
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &attacker{ln: ln, cert: cert, forward: forward}
	t.Cleanup(func() { ln.Close() })
	go acceptEach(ln, a.serve)
	return a
}

// acceptEach serves every connection ln accepts, each in its own
// goroutine, until ln is closed.
func acceptEach(ln net.Listener, serve func(net.Conn)) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(conn)
	}
}

func (a *attacker) URL() string { return "http://" + a.ln.Addr().String() }

func (a *attacker) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	var target string
	if first[0] != 0x16 { // not a TLS handshake: a proxy request
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		a.record(req, nil)
		if req.Method != http.MethodConnect {
			return
		}
		target = req.Host
		if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			return
		}
	}
	tconn := tls.Server(bufferedConn{Conn: conn, r: br}, &tls.Config{Certificates: []tls.Certificate{a.cert}, NextProtos: []string{"http/1.1"}})
	tr := bufio.NewReader(tconn)
	for {
		req, err := http.ReadRequest(tr)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		a.record(req, body)
		resp := a.answer(req, target, body)
		err = resp.Write(tconn)
		resp.Body.Close()
		if err != nil {
			return
		}
	}
}

// answer is the real server's answer when the attacker forwards, else 403.
func (a *attacker) answer(req *http.Request, target string, body []byte) *http.Response {
	if a.forward != nil && target != "" {
		out := req.Clone(context.Background())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = "https", target
		out.Body = io.NopCloser(bytes.NewReader(body))
		if resp, err := a.forward.RoundTrip(out); err == nil {
			return resp
		}
	}
	return &http.Response{StatusCode: http.StatusForbidden, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"kind":"Status","apiVersion":"v1","status":"Failure","code":403}`)), ContentLength: 66}
}

func (a *attacker) record(req *http.Request, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v := req.Header.Get("Authorization") + req.Header.Get("Proxy-Authorization"); v != "" {
		a.auth = append(a.auth, v)
	}
	if len(body) > 0 {
		a.bodies = append(a.bodies, string(body))
	}
}

// bodiesWith counts the request bodies the attacker read that contain s.
func (a *attacker) bodiesWith(s string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, b := range a.bodies {
		if strings.Contains(b, s) {
			n++
		}
	}
	return n
}

// tokens reports what the attacker captured, shortened so a failing test
// does not print a live token.
func (a *attacker) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, v := range a.auth {
		out = append(out, v[:min(len(v), 16)]+"...")
	}
	return out
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// startForwarder is an honest forward proxy: it tunnels a CONNECT to
// allowed (and refuses any other target), so TLS runs end to end between
// the client and the endpoint.
func startForwarder(t *testing.T, allowed string) *proxytest.Proxy {
	return proxytest.Start(t, nil, func(p *proxytest.Proxy) { p.Allow = func(target string) bool { return target == allowed } })
}

// onlyTo reports whether every CONNECT the proxy saw went to target.
func onlyTo(seen []proxytest.Request, target string) bool {
	for _, r := range seen {
		if r.Target != target {
			return false
		}
	}
	return len(seen) > 0
}

// overrideCluster makes the session's KUBECONFIG start with a file that
// redefines only the cluster "e2e": kubectl takes the first file's entry and
// keeps the user's exec stanza, which carries the binding.
func overrideCluster(t *testing.T, se *stack.Session, c *clientcmdapi.Cluster) *stack.Session {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = c
	return prependKubeconfig(t, se, cfg)
}

// prependKubeconfig makes the session's KUBECONFIG start with a file
// holding cfg: kubectl takes that file's entries first, as a kubeconfig
// from someone else earlier in KUBECONFIG would have it.
func prependKubeconfig(t *testing.T, se *stack.Session, cfg *clientcmdapi.Config) *stack.Session {
	t.Helper()
	first := filepath.Join(t.TempDir(), "first-kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, first); err != nil {
		t.Fatal(err)
	}
	s := *se
	s.Env = append(append([]string{}, se.Env...),
		"KUBECONFIG="+first+string(os.PathListSeparator)+filepath.Join(se.Dir, "kubeconfig"))
	return &s
}

// usersStanza is a copy of the session's user securekapi-e2e (the exec
// stanza `use` wrote) after edit: what an attacker who copies it and
// changes some args or env writes.
func usersStanza(t *testing.T, se *stack.Session, edit func(*clientcmdapi.ExecConfig)) *clientcmdapi.AuthInfo {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(filepath.Join(se.Dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	user := *cfg.AuthInfos["securekapi-e2e"]
	exec := *user.Exec
	exec.Args = append([]string{}, exec.Args...)
	exec.Env = append([]clientcmdapi.ExecEnvVar{}, exec.Env...)
	edit(&exec)
	user.Exec = &exec
	return &user
}

// headedPEM is the PEM with a header added: encoding/pem reads the block,
// client-go's AppendCertsFromPEM skips it.
func headedPEM(t *testing.T, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	block.Headers = map[string]string{"X-Ignore": "1"}
	return pem.EncodeToMemory(block)
}

func issue(t *testing.T, ca *stack.CA, name string) *stack.Leaf {
	t.Helper()
	leaf, err := ca.Issue(name, stack.LeafOptions{DNSNames: []string{name}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func concatPEM(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// dropPins removes the --pin args from the session's exec stanza, as a
// hand-edited or older stanza would have them.
func dropPins(t *testing.T, se *stack.Session) {
	t.Helper()
	path := filepath.Join(se.Dir, "kubeconfig")
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.AuthInfos["securekapi-e2e"]
	var args []string
	for i := 0; i < len(u.Exec.Args); i++ {
		if u.Exec.Args[i] == "--pin" {
			i++
			continue
		}
		args = append(args, u.Exec.Args[i])
	}
	u.Exec.Args = args
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// TestOverriddenClusterGetsNoToken: an earlier KUBECONFIG file redefines
// the cluster and routes kubectl through a hostile proxy that terminates
// TLS. The real kubectl must fail with the plugin's refusal and the
// attacker must receive no token; an honest proxy keeps working.
func TestOverriddenClusterGetsNoToken(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	enterprisePEM := shared.EnterpriseCA.CertPEM
	rogue, err := stack.NewCA("Rogue Root CA")
	if err != nil {
		t.Fatal(err)
	}
	rogueLeaf := issue(t, rogue, stack.EndpointServerName)
	evilLeaf := issue(t, shared.EnterpriseCA, "evil.example")

	cases := []struct {
		name    string
		leaf    *stack.Leaf
		caData  []byte
		tlsName string
		prepare func(t *testing.T, se *stack.Session)
	}{
		// kubectl trusts every root in the bundle, not only the pinned one.
		{name: "pinned CA plus a rogue root", leaf: rogueLeaf, caData: concatPEM(enterprisePEM, rogue.CertPEM), tlsName: stack.EndpointServerName},
		// client-go skips the headed block and trusts the rogue root alone.
		{name: "pinned CA in a headed PEM block", leaf: rogueLeaf, caData: concatPEM(headedPEM(t, enterprisePEM), rogue.CertPEM), tlsName: stack.EndpointServerName},
		// The enterprise CA signs many hosts; the name kubectl verifies moved.
		{name: "other tls-server-name from the pinned CA", leaf: evilLeaf, caData: enterprisePEM, tlsName: "evil.example"},
		// A stanza with --server and no --pin used to skip the CA check.
		{name: "stanza without pins", leaf: rogueLeaf, caData: rogue.CertPEM, tlsName: stack.EndpointServerName, prepare: dropPins},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := se
			if tc.prepare != nil {
				s = newSession(t, stack.Reader)
				browserLogin(t, s)
				tc.prepare(t, s)
			}
			mitm := startAttacker(t, tc.leaf)
			s = overrideCluster(t, s, &clientcmdapi.Cluster{Server: shared.EndpointURL, TLSServerName: tc.tlsName,
				CertificateAuthorityData: tc.caData, ProxyURL: mitm.URL()})
			r := s.Kubectl(ctx, "get", "ns", "--request-timeout=30s")
			if got := mitm.tokens(); len(got) > 0 {
				t.Fatalf("the attacker received %d credentials: %v", len(got), got)
			}
			if r.Err == nil || !strings.Contains(r.Stderr, "refusing to release a token") {
				t.Fatalf("kubectl did not fail with the refusal: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
			}
		})
	}

	t.Run("honest proxy, TLS end to end", func(t *testing.T) {
		endpoint, err := url.Parse(shared.EndpointURL)
		if err != nil {
			t.Fatal(err)
		}
		fwd := startForwarder(t, endpoint.Host)
		s := overrideCluster(t, se, &clientcmdapi.Cluster{Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName,
			CertificateAuthorityData: enterprisePEM, ProxyURL: "http://" + fwd.Addr})
		if w := kubectlWhoami(t, s); w.Status.UserInfo.Username != stack.Reader.Email {
			t.Fatalf("whoami through the proxy = %+v", w.Status.UserInfo)
		}
		if seen := fwd.Requests(); !onlyTo(seen, endpoint.Host) {
			t.Fatalf("the proxy saw %v, want kubectl to CONNECT to %s", seen, endpoint.Host)
		}
	})
}

// TestDoctorOnOverriddenCluster: doctor is what a user runs when kubectl
// fails; on an overridden cluster it must blame the binding and send the
// attacker nothing, not even on /version.
func TestDoctorOnOverriddenCluster(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	rogue, err := stack.NewCA("Rogue Root CA")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		cluster func(mitm *attacker) *clientcmdapi.Cluster
		leaf    *stack.Leaf
	}{{
		// The attacker holds a certificate from the pinned CA for another
		// name, and the entry points at it: every TLS check passes.
		name: "attacker server with a pinned-CA certificate for its name",
		leaf: issue(t, shared.EnterpriseCA, "evil.example"),
		cluster: func(mitm *attacker) *clientcmdapi.Cluster {
			return &clientcmdapi.Cluster{Server: "https://" + mitm.ln.Addr().String(), TLSServerName: "evil.example",
				CertificateAuthorityData: shared.EnterpriseCA.CertPEM}
		},
	}, {
		name: "pinned CA plus a rogue root, through a hostile proxy",
		leaf: issue(t, rogue, stack.EndpointServerName),
		cluster: func(mitm *attacker) *clientcmdapi.Cluster {
			return &clientcmdapi.Cluster{Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName,
				CertificateAuthorityData: concatPEM(shared.EnterpriseCA.CertPEM, rogue.CertPEM), ProxyURL: mitm.URL()}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mitm := startAttacker(t, tc.leaf)
			checks, passed := runDoctor(t, overrideCluster(t, se, tc.cluster(mitm)))
			if got := mitm.tokens(); len(got) > 0 {
				t.Fatalf("the attacker received %d credentials: %v", len(got), got)
			}
			b := checkNamed(checks, "token binding")
			if passed || b.Status != "fail" || !strings.Contains(b.Fix, "kubectl securekapi use e2e") {
				t.Fatalf("token binding = %+v, want a failure with the use command; checks: %+v", b, checks)
			}
			// doctor takes kubectl's path, through the proxy-url: the
			// hostile proxy's own chain fails the TLS check first.
			if tc.cluster(mitm).ProxyURL != "" {
				tls := checkNamed(checks, "TLS chain and pins")
				if tls.Status != "fail" || !strings.Contains(tls.Detail, "through proxy "+mitm.URL()) {
					t.Errorf("TLS check through the hostile proxy = %+v, want a failure naming the proxy", tls)
				}
			} else if f := firstFailure(checks); f.Name != "token binding" {
				t.Errorf("first failure = %+v, want the token binding", f)
			}
		})
	}
	t.Run("honest proxy-url", func(t *testing.T) {
		endpoint, err := url.Parse(shared.EndpointURL)
		if err != nil {
			t.Fatal(err)
		}
		fwd := startForwarder(t, endpoint.Host)
		checks, passed := runDoctor(t, overrideCluster(t, se, &clientcmdapi.Cluster{Server: shared.EndpointURL,
			TLSServerName: stack.EndpointServerName, CertificateAuthorityData: shared.EnterpriseCA.CertPEM, ProxyURL: "http://" + fwd.Addr}))
		if !passed {
			t.Fatalf("doctor failed on a kubeconfig that only adds an honest proxy: %+v", checks)
		}
		if seen := fwd.Requests(); !onlyTo(seen, endpoint.Host) {
			t.Errorf("the proxy saw %v: doctor passed without going through the kubeconfig's proxy-url", seen)
		}
	})
}
