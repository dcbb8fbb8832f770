package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// Tunneled access (issue 5): the secondary endpoint is reached through a
// real third-party mutual-TLS access gateway, Squid (connect mode: CONNECT
// inside mTLS) or stunnel (direct mode: the gateway forwards to one
// backend), with the plugin's loopback proxy between kubectl and the
// gateway. Login still talks to Dex directly.

// tunnelFlags are the `add` flags for a gateway with the given client
// certificate.
func tunnelFlags(gw *stack.Gateway, certFile, keyFile string, extra ...string) []string {
	return append(gw.AddFlags(certFile, keyFile), extra...)
}

// tunnelSession is a user machine with the stack's endpoint registered as
// "e2e" behind gw, switched to and logged in as alice.
func tunnelSession(t *testing.T, gw *stack.Gateway) *stack.Session {
	t.Helper()
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Squid's registration also pins the gateway CA; stunnel's trusts the
	// CA file alone.
	var extra []string
	if gw.Kind == stack.Squid {
		extra = []string{"--tunnel-pin", gw.Pin()}
	}
	if err := se.AddCluster(ctx, "e2e", tunnelFlags(gw, gw.ClientCertFile, gw.ClientKeyFile, extra...)...); err != nil {
		t.Fatalf("add through the %s gateway: %v\ngateway log:\n%s", gw.Kind, err, gw.LogTail())
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use through the %s gateway: %v\n%s", gw.Kind, r.Err, r.Stderr)
	}
	browserLogin(t, se)
	return se
}

func startGateway(t *testing.T, kind stack.GatewayKind) *stack.Gateway {
	t.Helper()
	gw, err := shared.StartGateway(context.Background(), kind)
	if err != nil {
		t.Fatalf("start %s: %v", kind, err)
	}
	t.Cleanup(func() {
		gw.Close()
		for _, pid := range gw.Pids() {
			if stack.Alive(pid) {
				t.Errorf("%s (pid %d) outlived its test", gw.Kind, pid)
			}
		}
	})
	return gw
}

// gatewayConnections counts the tunnels the gateway itself logged: Squid's
// access log lines for CONNECTs to the endpoint, stunnel's accepted
// connections. It proves traffic really crossed the third-party gateway.
func gatewayConnections(gw *stack.Gateway) int {
	if gw.Kind == stack.Squid {
		return squidTunnels(gw, strings.TrimPrefix(shared.EndpointURL, "https://"))
	}
	return strings.Count(gw.Log(), "accepted connection from")
}

// waitGatewayConnections waits for the gateway to log more than before
// (Squid writes an access log line when a tunnel closes).
func waitGatewayConnections(t *testing.T, gw *stack.Gateway, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for gatewayConnections(gw) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("%s logged no new connection (still %d): traffic did not cross the gateway\n%s%s", gw.Kind, before, gw.AccessLog(), gw.LogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// withKubeconfig is the session with KUBECONFIG replaced.
func withKubeconfig(se *stack.Session, path string) *stack.Session {
	s := *se
	s.Env = append(append([]string{}, se.Env...), "KUBECONFIG="+path)
	return &s
}

func TestTunnel(t *testing.T) {
	for _, kind := range []stack.GatewayKind{stack.Squid, stack.Stunnel} {
		t.Run(string(kind), func(t *testing.T) {
			gw := startGateway(t, kind)
			se := tunnelSession(t, gw)
			t.Run("run", func(t *testing.T) { testTunnelRun(t, se, gw) })
			t.Run("run exit code and cleanup", func(t *testing.T) { testTunnelRunExit(t, se) })
			t.Run("run cleans up on signals", func(t *testing.T) { testTunnelRunSignals(t, se) })
			t.Run("shell", func(t *testing.T) { testTunnelShell(t, se, gw) })
			t.Run("proxy", func(t *testing.T) { testTunnelProxy(t, se, gw) })
			if kind == stack.Squid {
				// 65 s: only one mode, to bound the run time.
				t.Run("long watch", func(t *testing.T) { testTunnelLongWatch(t, se) })
			}
			t.Run("proxy refuses attackers", func(t *testing.T) { testTunnelProxyAttackers(t, se) })
			t.Run("gateway rejects a rogue client certificate", func(t *testing.T) { testTunnelRogueClientCert(t, se, gw) })
			t.Run("gateway with the wrong certificate", func(t *testing.T) { testTunnelWrongGateway(t, se, gw) })
			t.Run("gateway down then back", func(t *testing.T) { testTunnelGatewayDown(t, se, gw) })
		})
	}
}

// testTunnelRun: kubectl through `run` sees alice, over the gateway.
func testTunnelRun(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	ctx := context.Background()
	before := gatewayConnections(gw)
	r := se.Securekapi(ctx, "run", "e2e", "--", "kubectl", "get", "ns", "-o", "name")
	if r.Err != nil || !strings.Contains(r.Stdout, "namespace/default") {
		t.Fatalf("run -- kubectl get ns: %v\n%s%s\ngateway log:\n%s", r.Err, r.Stdout, r.Stderr, gw.LogTail())
	}
	waitGatewayConnections(t, gw, before)
	r = se.Securekapi(ctx, "run", "e2e", "--", "kubectl", "auth", "whoami", "-o", "json")
	if r.Err != nil {
		t.Fatalf("run -- kubectl auth whoami: %v\n%s", r.Err, r.Stderr)
	}
	var w whoami
	if err := json.Unmarshal([]byte(r.Stdout), &w); err != nil {
		t.Fatalf("whoami output: %v\n%s", err, r.Stdout)
	}
	if w.Status.UserInfo.Username != stack.Reader.Email || !contains(w.Status.UserInfo.Groups, stack.ReaderGroup) {
		t.Fatalf("whoami through the tunnel = %+v", w.Status.UserInfo)
	}
}

// testTunnelRunExit: the exit code passes through, the temporary
// kubeconfig keeps the bound server and CA (only proxy-url is added, so the
// token binding holds) and is gone afterwards.
func testTunnelRunExit(t *testing.T, se *stack.Session) {
	ctx := context.Background()
	r := se.Securekapi(ctx, "run", "e2e", "--", "sh", "-c", `echo "$KUBECONFIG"; cat "$KUBECONFIG" >&2; exit 7`)
	if code := exitCode(r.Err); code != 7 {
		t.Fatalf("run -- sh -c 'exit 7' exited %d (%v), want 7\n%s", code, r.Err, r.Stderr)
	}
	path := strings.TrimSpace(r.Stdout)
	if path == "" || path == se.Environ()[0][len("KUBECONFIG="):] {
		t.Fatalf("KUBECONFIG in the child = %q, want a temporary kubeconfig", path)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary kubeconfig %s still there after run: %v", path, err)
	}
	at := strings.Index(r.Stderr, "apiVersion")
	if at < 0 {
		t.Fatalf("the child could not read its KUBECONFIG:\n%s", r.Stderr)
	}
	cfg, err := clientcmd.Load([]byte(r.Stderr[at:]))
	if err != nil {
		t.Fatalf("temporary kubeconfig: %v\n%s", err, r.Stderr)
	}
	orig, err := clientcmd.LoadFromFile(se.Environ()[0][len("KUBECONFIG="):])
	if err != nil {
		t.Fatal(err)
	}
	ctxEntry := cfg.Contexts[cfg.CurrentContext]
	if ctxEntry == nil {
		t.Fatalf("temporary kubeconfig has no current context %q", cfg.CurrentContext)
	}
	got, want := cfg.Clusters[ctxEntry.Cluster], orig.Clusters[ctxEntry.Cluster]
	if got == nil || want == nil {
		t.Fatalf("cluster %q missing: temp %v, session %v", ctxEntry.Cluster, got, want)
	}
	if got.Server != want.Server || got.TLSServerName != want.TLSServerName || !bytes.Equal(got.CertificateAuthorityData, want.CertificateAuthorityData) {
		t.Errorf("the routed cluster changed server/name/CA: %s %s vs %s %s", got.Server, got.TLSServerName, want.Server, want.TLSServerName)
	}
	if !regexp.MustCompile(`^http://securekapi:[^@]+@127\.0\.0\.1:\d+$`).MatchString(got.ProxyURL) {
		t.Errorf("proxy-url = %q, want http://securekapi:<secret>@127.0.0.1:PORT", got.ProxyURL)
	}
	if u := cfg.AuthInfos[ctxEntry.AuthInfo]; u == nil || u.Exec == nil || strings.Join(u.Exec.Args, " ") != strings.Join(orig.AuthInfos[ctxEntry.AuthInfo].Exec.Args, " ") {
		t.Errorf("the exec stanza changed in the routed kubeconfig")
	}
}

// testTunnelRunSignals: SIGTERM to `run` (a CI runner cancelling a job) is
// passed to the command; Ctrl-C at a terminal (SIGINT to the process group)
// reaches the command directly. Either way run exits with the command's
// signal status and removes the temporary kubeconfig.
func testTunnelRunSignals(t *testing.T, se *stack.Session) {
	for _, tc := range []struct {
		name  string
		group bool
		sig   syscall.Signal
	}{{"SIGTERM to run", false, syscall.SIGTERM}, {"SIGINT to the process group", true, syscall.SIGINT}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(se.Plugin, "run", "e2e", "--", "sh", "-c", `echo "$KUBECONFIG"; exec sleep 60`)
			cmd.Env = se.Environ()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			t.Cleanup(func() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			})
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("no KUBECONFIG from the command: %v\n%s", err, stderr.String())
			}
			go func() { done <- cmd.Wait() }()
			path := strings.TrimSpace(line)
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("temporary kubeconfig while the command runs: %v", err)
			}
			pid := cmd.Process.Pid
			if tc.group {
				pid = -pid
			}
			if err := syscall.Kill(pid, tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("run did not end within 20s of %v:\n%s", tc.sig, stderr.String())
			}
			if code, want := exitCode(err), 128+int(tc.sig); code != want {
				t.Errorf("run exited %d after %v, want %d\n%s", code, tc.sig, want, stderr.String())
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("temporary kubeconfig %s left behind after %v: %v", path, tc.sig, err)
			}
		})
	}
}

// proxyChild is a running `kubectl securekapi proxy`.
type proxyChild struct {
	cmd        *exec.Cmd
	kubeconfig string
	stdout     syncBuffer
	mu         sync.Mutex
	stderr     bytes.Buffer
	done       chan struct{}
	err        error
}

func (p *proxyChild) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proxyChild) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProxyChild starts `proxy NAME -o yaml` and waits for the export line.
func startProxyChild(t *testing.T, se *stack.Session, name string) *proxyChild {
	t.Helper()
	p := &proxyChild{done: make(chan struct{})}
	p.cmd = exec.Command(se.Plugin, "proxy", name, "-o", "yaml")
	p.cmd.Env = se.Environ()
	p.cmd.Dir = se.Dir
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`^\s*export KUBECONFIG=(\S+)\s*$`)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			// SIGINT first, so the proxy removes its temporary kubeconfig
			// even when the test failed early.
			_ = p.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if stack.Alive(p.cmd.Process.Pid) {
			t.Errorf("proxy (pid %d) outlived its test", p.cmd.Process.Pid)
		}
	})
	select {
	case p.kubeconfig = <-found:
	case <-p.done:
		t.Fatalf("proxy exited: %v\n%s", p.err, p.Stderr())
	case <-time.After(30 * time.Second):
		t.Fatalf("proxy printed no export KUBECONFIG line:\n%s", p.Stderr())
	}
	return p
}

// interrupt sends SIGINT and returns the exit code.
func (p *proxyChild) interrupt(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("proxy did not stop within 20s of SIGINT:\n%s", p.Stderr())
	}
	return exitCode(p.err)
}

// proxyURL reads the proxy-url from the proxy's kubeconfig.
func (p *proxyChild) proxyURL(t *testing.T) *url.URL {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(p.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		u, err := url.Parse(c.ProxyURL)
		if err != nil || u.Host == "" {
			t.Fatalf("proxy-url %q: %v", c.ProxyURL, err)
		}
		return u
	}
	t.Fatalf("no cluster in %s", p.kubeconfig)
	return nil
}

// testTunnelProxy: the long-running proxy serves kubectl through the
// exported kubeconfig, and SIGINT stops it cleanly.
func testTunnelProxy(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	ctx := context.Background()
	p := startProxyChild(t, se, "e2e")
	data, err := os.ReadFile(p.kubeconfig)
	if err != nil {
		t.Fatalf("exported kubeconfig: %v", err)
	}
	// stdout reaches us through a pipe copier that may lag stderr.
	for deadline := time.Now().Add(5 * time.Second); p.stdout.String() != string(data) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if p.stdout.String() != string(data) {
		t.Errorf("-o yaml printed something else than the exported kubeconfig:\n%s\n---\n%s", p.stdout.String(), data)
	}
	via := withKubeconfig(se, p.kubeconfig)
	before := gatewayConnections(gw)
	if r := via.Kubectl(ctx, "get", "ns", "-o", "name"); r.Err != nil || !strings.Contains(r.Stdout, "namespace/default") {
		t.Fatalf("kubectl get ns through the proxy: %v\n%s%s\nproxy:\n%s", r.Err, r.Stdout, r.Stderr, p.Stderr())
	}
	if w := kubectlWhoami(t, via); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami through the proxy = %+v", w.Status.UserInfo)
	}
	waitGatewayConnections(t, gw, before)
	if code := p.interrupt(t); code != 0 {
		t.Fatalf("proxy exited %d after SIGINT, want 0:\n%s", code, p.Stderr())
	}
	if _, err := os.Stat(p.kubeconfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary kubeconfig %s still there after the proxy stopped: %v", p.kubeconfig, err)
	}
}

// testTunnelLongWatch: a watch through the tunnel streams for over a
// minute (past common 60 s idle/request timeouts) and gets every event.
func testTunnelLongWatch(t *testing.T, se *stack.Session) {
	ctx := context.Background()
	ns := fmt.Sprintf("tunnel-watch-%d", time.Now().UnixNano()%1_000_000)
	if out, err := shared.AdminKubectl(ctx, nil, "create", "namespace", ns); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_, _ = shared.AdminKubectl(context.Background(), nil, "delete", "namespace", ns, "--wait=false")
	})
	p := startProxyChild(t, se, "e2e")
	watch := exec.Command("kubectl", "get", "configmaps", "-n", ns, "-w", "--request-timeout=0", "-o", "name")
	watch.Env = withKubeconfig(se, p.kubeconfig).Environ()
	var out, errOut syncBuffer
	watch.Stdout, watch.Stderr = &out, &errOut
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	watchDone := make(chan error, 1)
	go func() { watchDone <- watch.Wait() }()
	t.Cleanup(func() {
		_ = watch.Process.Kill()
		<-watchDone
	})
	time.Sleep(2 * time.Second) // let the watch open
	const duration, every = 65 * time.Second, 5 * time.Second
	start := time.Now()
	var created []string
	for i := 0; time.Since(start) <= duration; i++ {
		select {
		case err := <-watchDone:
			watchDone <- err
			t.Fatalf("watch ended after %s: %v\n%s\nproxy:\n%s", time.Since(start).Round(time.Second), err, errOut.String(), p.Stderr())
		default:
		}
		name := fmt.Sprintf("cm-%02d", i)
		if o, err := shared.AdminKubectl(ctx, nil, "create", "configmap", name, "-n", ns, "--from-literal=i="+name); err != nil {
			t.Fatalf("create configmap: %v\n%s", err, o)
		}
		created = append(created, name)
		time.Sleep(every)
	}
	// The last event has had 5 s to arrive; give it a little more if needed.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "configmap/"+created[len(created)-1]) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	select {
	case err := <-watchDone:
		watchDone <- err
		t.Fatalf("watch ended: %v\n%s", err, errOut.String())
	default:
	}
	var missing []string
	for _, name := range created {
		if !strings.Contains(out.String(), "configmap/"+name+"\n") {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("after %s the watch missed %v of %d configmaps:\n%s\n%s", time.Since(start).Round(time.Second), missing, len(created), out.String(), errOut.String())
	}
	t.Logf("watch streamed %s through the tunnel and saw all %d configmaps", time.Since(start).Round(time.Second), len(created))
	if code := p.interrupt(t); code != 0 {
		t.Errorf("proxy exited %d after SIGINT with a watch open, want 0:\n%s", code, p.Stderr())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rawProxyRequest sends request to the proxy and returns its status line.
func rawProxyRequest(t *testing.T, addr, method, request string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read the proxy's answer to %q: %v", strings.SplitN(request, "\r\n", 2)[0], err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Status
}

// testTunnelProxyAttackers: another local process (or a web page) talking to
// the running proxy gets nothing: it needs the per-run credential, may only
// CONNECT to the cluster's endpoint, and only CONNECT.
func testTunnelProxyAttackers(t *testing.T, se *stack.Session) {
	p := startProxyChild(t, se, "e2e")
	u := p.proxyURL(t)
	pass, _ := u.User.Password()
	auth := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass)) + "\r\n"
	wrong := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("securekapi:guess")) + "\r\n"
	endpoint := strings.TrimPrefix(shared.EndpointURL, "https://")
	dex, _ := url.Parse(shared.IssuerURL)
	connect := func(target, header string) string {
		return "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n" + header + "\r\n"
	}
	cases := []struct {
		name, method, request string
		want                  int
	}{
		{"CONNECT to ssh", http.MethodConnect, connect("127.0.0.1:22", auth), http.StatusForbidden},
		{"CONNECT to Dex", http.MethodConnect, connect(dex.Host, auth), http.StatusForbidden},
		{"CONNECT around the endpoint to kube-apiserver", http.MethodConnect, connect(strings.TrimPrefix(shared.APIServerURL, "https://"), auth), http.StatusForbidden},
		{"CONNECT without credential", http.MethodConnect, connect(endpoint, ""), http.StatusProxyAuthRequired},
		{"CONNECT with a wrong credential", http.MethodConnect, connect(endpoint, wrong), http.StatusProxyAuthRequired},
		{"GET", http.MethodGet, "GET http://" + endpoint + "/api HTTP/1.1\r\nHost: " + endpoint + "\r\n" + auth + "\r\n", http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, status := rawProxyRequest(t, u.Host, tc.method, tc.request)
			if code != tc.want {
				t.Fatalf("got %q, want %d", status, tc.want)
			}
			if strings.Contains(status, pass) {
				t.Fatalf("the answer leaks the credential: %q", status)
			}
		})
	}
	// The legitimate request still works on the same proxy.
	if code, status := rawProxyRequest(t, u.Host, http.MethodConnect, connect(endpoint, auth)); code != http.StatusOK {
		t.Fatalf("CONNECT to the endpoint with the credential: %q", status)
	}
	if code := p.interrupt(t); code != 0 {
		t.Errorf("proxy exited %d after SIGINT:\n%s", code, p.Stderr())
	}
}

// reregister replaces the session's "e2e" registration with c (no live
// check), runs check, then restores the working registration.
func reregister(t *testing.T, se *stack.Session, gw *stack.Gateway, mutate func(c *profile.Cluster), check func(t *testing.T)) {
	t.Helper()
	c := profile.Cluster{Name: "e2e", Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName,
		Pins: []string{pinOf(shared.EnterpriseCA.Cert)},
		OIDC: profile.OIDC{IssuerURL: shared.IssuerURL, ClientID: shared.ClientID, CAFile: shared.DexCAFile, ExtraScopes: []string{"email", "groups"}},
		Tunnel: &profile.Tunnel{Gateway: gw.Addr, Mode: gw.Mode(), GatewayServerName: gw.ServerName,
			GatewayCAData: gw.CA.CertPEM, ClientCertFile: gw.ClientCertFile, ClientKeyFile: gw.ClientKeyFile}}
	mutate(&c)
	register(t, se, c)
	defer func() {
		if err := se.AddCluster(context.Background(), "e2e", append(tunnelFlags(gw, gw.ClientCertFile, gw.ClientKeyFile), "--replace")...); err != nil {
			t.Fatalf("restore the registration: %v", err)
		}
	}()
	check(t)
}

// refusedEverywhere: `use` refuses (kubeconfig untouched) and kubectl
// through `run` fails, both saying why.
func refusedEverywhere(t *testing.T, se *stack.Session, want ...string) {
	t.Helper()
	ctx := context.Background()
	before := kubeconfigSnapshot(t, se)
	r := se.Securekapi(ctx, "use", "e2e")
	if r.Err == nil {
		t.Errorf("use accepted the tunnel:\n%s", r.Stderr)
	}
	for _, w := range append(want, "kubeconfig was not changed") {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("use: error lacks %q:\n%s", w, r.Stderr)
		}
	}
	if after := kubeconfigSnapshot(t, se); !bytes.Equal(before, after) {
		t.Errorf("kubeconfig changed by a refused use")
	}
	r = se.Securekapi(ctx, "run", "e2e", "--", "kubectl", "get", "ns", "--request-timeout=30s")
	if r.Err == nil {
		t.Fatalf("kubectl through run succeeded:\n%s", r.Stdout)
	}
	for _, w := range append(want, "Bad Gateway") {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("run: kubectl's error lacks %q:\n%s", w, r.Stderr)
		}
	}
}

// testTunnelRogueClientCert: a client certificate from a CA the gateway
// does not trust is rejected by the gateway itself.
func testTunnelRogueClientCert(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	reregister(t, se, gw, func(c *profile.Cluster) {
		c.Tunnel.ClientCertFile, c.Tunnel.ClientKeyFile = gw.RogueCertFile, gw.RogueKeyFile
	}, func(t *testing.T) {
		refusedEverywhere(t, se, "gateway "+gw.Addr, "rejected", "Rogue Client CA")
	})
}

// testTunnelWrongGateway: the gateway presents a certificate the user was
// not told to trust (another CA, or a key that is not pinned).
func testTunnelWrongGateway(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	other, err := stack.NewCA("Some Other Gateway CA")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("CA", func(t *testing.T) {
		reregister(t, se, gw, func(c *profile.Cluster) { c.Tunnel.GatewayCAData = other.CertPEM }, func(t *testing.T) {
			refusedEverywhere(t, se, "gateway "+gw.Addr, "not issued by a CA in the gateway CA bundle")
		})
	})
	t.Run("pin", func(t *testing.T) {
		wrongPin := "sha256:" + strings.Repeat("ab", 32)
		reregister(t, se, gw, func(c *profile.Cluster) { c.Tunnel.GatewayPins = []string{wrongPin} }, func(t *testing.T) {
			refusedEverywhere(t, se, "gateway "+gw.Addr, "pin mismatch", wrongPin, gw.Pin())
		})
	})
}

// testTunnelGatewayDown: with the gateway stopped kubectl fails naming it;
// once it is back, the same proxy process serves again.
func testTunnelGatewayDown(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	ctx := context.Background()
	p := startProxyChild(t, se, "e2e")
	via := withKubeconfig(se, p.kubeconfig)
	if r := via.Kubectl(ctx, "get", "ns", "-o", "name"); r.Err != nil {
		t.Fatalf("kubectl through the proxy: %v\n%s", r.Err, r.Stderr)
	}
	gw.Stop()
	restarted := false
	defer func() {
		if !restarted {
			if err := gw.Restart(context.Background()); err != nil {
				t.Errorf("restart %s: %v", gw.Kind, err)
			}
		}
	}()
	r := se.Securekapi(ctx, "run", "e2e", "--", "kubectl", "get", "ns", "--request-timeout=30s")
	if r.Err == nil {
		t.Fatalf("kubectl through run succeeded with the gateway down:\n%s", r.Stdout)
	}
	// run's stderr carries the proxy's log line naming the gateway and why.
	for _, want := range []string{"status=502", "gateway " + gw.Addr, "is the gateway up"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("run with the gateway down: stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	r = via.Kubectl(ctx, "get", "ns", "--request-timeout=30s")
	if r.Err == nil {
		t.Errorf("kubectl through the running proxy succeeded with the gateway down:\n%s", r.Stdout)
	}
	// kubectl rewrites any error containing "connection refused" into "The
	// connection to the server <endpoint> was refused", blaming the
	// endpoint; the proxy's reason avoids those words, so kubectl's own
	// message names the gateway.
	if !strings.Contains(r.Stderr, "gateway "+gw.Addr) || strings.Contains(r.Stderr, "connection to the server") {
		t.Errorf("kubectl's message with the gateway down does not name the gateway:\n%s", r.Stderr)
	}
	if !strings.Contains(p.Stderr(), "gateway "+gw.Addr) || !strings.Contains(p.Stderr(), "is the gateway up") {
		t.Errorf("the proxy did not log the gateway failure:\n%s", p.Stderr())
	}
	if err := gw.Restart(ctx); err != nil {
		t.Fatalf("restart %s: %v", gw.Kind, err)
	}
	restarted = true
	if p.exited() {
		t.Fatalf("the proxy exited during the outage: %v\n%s", p.err, p.Stderr())
	}
	if r := via.Kubectl(ctx, "get", "ns", "-o", "name"); r.Err != nil || !strings.Contains(r.Stdout, "namespace/default") {
		t.Fatalf("kubectl through the same proxy after the gateway came back: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	if code := p.interrupt(t); code != 0 {
		t.Errorf("proxy exited %d after SIGINT:\n%s", code, p.Stderr())
	}
}
