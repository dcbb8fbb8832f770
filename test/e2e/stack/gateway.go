package stack

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GatewayServerName is the DNS name on every test gateway's certificate
// (which also carries IP 127.0.0.1).
const GatewayServerName = "gateway.example.test"

// GatewayKind names the real third-party program playing the mutual-TLS
// access gateway.
type GatewayKind string

const (
	// Squid is a forward proxy with an https_port that requires client
	// certificates: the tunnel's "connect" mode (CONNECT inside mTLS).
	Squid GatewayKind = "squid"
	// Stunnel terminates mTLS and forwards every connection to one fixed
	// backend: the tunnel's "direct" mode.
	Stunnel GatewayKind = "stunnel"
	// CorporateProxy is not a gateway but the office forward proxy a user
	// must go through to reach one (HTTPS_PROXY): Squid on a plain
	// http_port, allowing CONNECT to Target only. Squid resolves Target's
	// host from its own hosts file, so Target may be a name (which Go's
	// proxy selection needs: it never proxies loopback addresses).
	CorporateProxy GatewayKind = "corporate-proxy"
	// HAProxy terminates mTLS in mode tcp and forwards to one backend:
	// direct mode. It needs GatewayOptions.Snippet.
	HAProxy GatewayKind = "haproxy"
	// Nginx is nginx's stream module with ssl_verify_client on, forwarding
	// to one backend: direct mode. It needs GatewayOptions.Snippet.
	Nginx GatewayKind = "nginx"
)

// The placeholders of the README's gateway snippets, which the harness
// replaces with its own addresses and files.
const (
	SnippetListen     = "0.0.0.0:8443"
	SnippetTarget     = "kapi.internal.example.com:443"
	SnippetTargetHost = "kapi.internal.example.com"
	// SnippetTargetPort appears as Squid's "port 443" ACL.
	SnippetTargetPort  = " port 443"
	SnippetCert        = "/etc/gateway/gateway.pem"
	SnippetKey         = "/etc/gateway/gateway.key"
	SnippetCertWithKey = "/etc/gateway/gateway-with-key.pem"
	SnippetClientCA    = "/etc/gateway/device-ca.pem"
)

// squid reports whether Squid plays this kind.
func (k GatewayKind) squid() bool { return k == Squid || k == CorporateProxy }

// Mode is the securekapi --tunnel-mode that fits the gateway kind.
func (k GatewayKind) Mode() string {
	if k == Stunnel || k == HAProxy || k == Nginx {
		return "direct"
	}
	return "connect"
}

// binary is the program that plays the kind.
func (k GatewayKind) binary() string {
	return map[GatewayKind]string{Squid: "squid", CorporateProxy: "squid", Stunnel: "stunnel4", HAProxy: "haproxy", Nginx: "nginx"}[k]
}

// GatewayPKI is everything a gateway and its users need: the gateway's own
// CA and serving certificate, the client CA the gateway trusts with the
// user's client certificate, and a rogue client CA (not trusted by the
// gateway) with a certificate an attacker might present.
type GatewayPKI struct {
	// Gateway CA, which issued the gateway's certificate for
	// GatewayServerName and 127.0.0.1.
	CA     *CA
	CAFile string
	// The gateway's serving chain (leaf, then CA) and key.
	ServerCertFile, ServerKeyFile string
	// The client CA the gateway verifies client certificates against.
	ClientCA     *CA
	ClientCAFile string
	// The user's client certificate, issued by ClientCA.
	ClientCertFile, ClientKeyFile string
	// A client CA the gateway does not trust, and a certificate it issued.
	RogueCA                     *CA
	RogueCertFile, RogueKeyFile string
}

// NewGatewayPKI creates fresh CAs and certificates and writes them to dir.
func NewGatewayPKI(dir string) (*GatewayPKI, error) {
	pki := &GatewayPKI{}
	var err error
	if pki.CA, err = NewCA("Example Access Gateway CA"); err != nil {
		return nil, err
	}
	if pki.ClientCA, err = NewCA("Example Access Gateway Client CA"); err != nil {
		return nil, err
	}
	if pki.RogueCA, err = NewCA("Rogue Client CA"); err != nil {
		return nil, err
	}
	server, err := pki.CA.Issue(GatewayServerName, LeafOptions{DNSNames: []string{GatewayServerName}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		return nil, err
	}
	client, err := pki.ClientCA.Issue("alice@example.test", LeafOptions{Client: true})
	if err != nil {
		return nil, err
	}
	rogue, err := pki.RogueCA.Issue("mallory@example.test", LeafOptions{Client: true})
	if err != nil {
		return nil, err
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	pki.CAFile, pki.ClientCAFile = path("gateway-ca.crt"), path("gateway-client-ca.crt")
	pki.ServerCertFile, pki.ServerKeyFile = path("gateway.pem"), path("gateway.key")
	pki.ClientCertFile, pki.ClientKeyFile = path("client.crt"), path("client.key")
	pki.RogueCertFile, pki.RogueKeyFile = path("rogue-client.crt"), path("rogue-client.key")
	for _, err := range []error{
		os.WriteFile(pki.CAFile, pki.CA.CertPEM, 0o644),
		os.WriteFile(pki.ClientCAFile, pki.ClientCA.CertPEM, 0o644),
		os.WriteFile(pki.ServerCertFile, concat(server.CertPEM, pki.CA.CertPEM), 0o644),
		os.WriteFile(pki.ServerKeyFile, server.KeyPEM, 0o600),
		client.WriteFiles(pki.ClientCertFile, pki.ClientKeyFile),
		rogue.WriteFiles(pki.RogueCertFile, pki.RogueKeyFile),
	} {
		if err != nil {
			return nil, err
		}
	}
	return pki, nil
}

// GatewayOptions configure StartGateway.
type GatewayOptions struct {
	Kind GatewayKind
	// Target is the host:port behind the gateway: for Squid the only
	// CONNECT destination it allows, for Stunnel its fixed backend.
	Target string
	// PKI to use; default a fresh NewGatewayPKI in the gateway's directory.
	PKI *GatewayPKI
	// Listen is the gateway's address; default 127.0.0.1 and a free port.
	Listen string
	// OnStart, when set, is told about every process the gateway starts
	// (the stack uses it to track them by pid).
	OnStart func(name string, p *process)
	// Snippet, when set, is the gateway's configuration as a platform
	// owner writes it (the README's gateway snippets, with the Snippet*
	// placeholders). The harness substitutes the placeholders and adds only
	// what runs a private instance: pid and log files, the foreground.
	// Everything else is the package's defaults.
	Snippet string
}

// Gateway is a running third-party mTLS gateway process (Squid or stunnel),
// started and stopped by its pid like the stack's other servers.
type Gateway struct {
	*GatewayPKI
	Kind GatewayKind
	// Addr is the gateway's host:port (127.0.0.1:PORT).
	Addr string
	// ServerName is the name on its certificate (GatewayServerName).
	ServerName string
	Target     string
	// Dir holds its configuration, certificates and logs; Close removes it.
	Dir string

	conf    string
	snippet string
	service string // Squid's -n service name, unique per gateway
	onStart func(string, *process)

	mu   sync.Mutex
	proc *process
	pids []int
}

var gatewaySeq struct {
	sync.Mutex
	n int
}

// StartGateway writes the configuration, starts the gateway in the
// foreground and returns once it completes a mutual-TLS handshake (and, for
// Squid, a CONNECT to Target) with the PKI's client certificate.
func StartGateway(ctx context.Context, o GatewayOptions) (_ *Gateway, err error) {
	bin := o.Kind.binary()
	if bin == "" {
		return nil, fmt.Errorf("gateway kind %q: want %q, %q, %q, %q or %q", o.Kind, Squid, Stunnel, HAProxy, Nginx, CorporateProxy)
	}
	if o.Snippet == "" && (o.Kind == HAProxy || o.Kind == Nginx) {
		return nil, fmt.Errorf("gateway kind %q needs a configuration snippet", o.Kind)
	}
	if _, _, err := net.SplitHostPort(o.Target); err != nil {
		return nil, fmt.Errorf("gateway target %q must be host:port: %w", o.Target, err)
	}
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("%s not found (apt-get install -y squid-openssl stunnel4 haproxy nginx libnginx-mod-stream): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "securekapi-"+string(o.Kind)+"-")
	if err != nil {
		return nil, err
	}
	g := &Gateway{Kind: o.Kind, Target: o.Target, ServerName: GatewayServerName, Dir: dir, GatewayPKI: o.PKI, onStart: o.OnStart, snippet: o.Snippet}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	if g.GatewayPKI == nil {
		if g.GatewayPKI, err = NewGatewayPKI(dir); err != nil {
			return nil, err
		}
	}
	if g.Addr = o.Listen; g.Addr == "" {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		g.Addr = "127.0.0.1:" + strconv.Itoa(port)
	}
	gatewaySeq.Lock()
	gatewaySeq.n++
	g.service = fmt.Sprintf("skgw%dn%d", os.Getpid(), gatewaySeq.n)
	gatewaySeq.Unlock()
	switch {
	case o.Snippet != "":
		err = g.writeSnippetConfig()
	case o.Kind.squid():
		err = g.writeSquidConfig()
	case o.Kind == Stunnel:
		err = g.writeStunnelConfig()
	}
	if err != nil {
		return nil, err
	}
	if err := g.start(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// StartGateway puts a gateway of the given kind in front of the secondary
// endpoint (EndpointURL's host:port). Its processes count among the
// stack's: Stop ends them and Pids lists them. Close it when done to
// remove its files.
func (s *Stack) StartGateway(ctx context.Context, kind GatewayKind) (*Gateway, error) {
	return s.startTracked(ctx, GatewayOptions{Kind: kind, Target: strings.TrimPrefix(s.EndpointURL, "https://")})
}

// StartGatewaySnippet is StartGateway with the gateway configured by
// snippet (see GatewayOptions.Snippet).
func (s *Stack) StartGatewaySnippet(ctx context.Context, kind GatewayKind, snippet string) (*Gateway, error) {
	return s.startTracked(ctx, GatewayOptions{Kind: kind, Target: strings.TrimPrefix(s.EndpointURL, "https://"), Snippet: snippet})
}

// StartCorporateProxy starts a corporate forward proxy (see
// CorporateProxy) that allows CONNECT to target only, tracked like the
// stack's other processes.
func (s *Stack) StartCorporateProxy(ctx context.Context, target string) (*Gateway, error) {
	return s.startTracked(ctx, GatewayOptions{Kind: CorporateProxy, Target: target})
}

// startTracked starts a gateway whose processes count among the stack's.
func (s *Stack) startTracked(ctx context.Context, o GatewayOptions) (*Gateway, error) {
	o.OnStart = func(name string, p *process) {
		p.name = name
		s.track(p)
	}
	return StartGateway(ctx, o)
}

// Mode is the --tunnel-mode for this gateway.
func (g *Gateway) Mode() string { return g.Kind.Mode() }

// AddFlags are the `add` flags that register the endpoint behind g, with
// the given client certificate (g's own: g.ClientCertFile, g.ClientKeyFile).
func (g *Gateway) AddFlags(certFile, keyFile string) []string {
	return []string{"--tunnel-gateway", g.Addr, "--tunnel-mode", g.Mode(),
		"--tunnel-server-name", g.ServerName, "--tunnel-ca-file", g.CAFile,
		"--tunnel-client-cert", certFile, "--tunnel-client-key", keyFile}
}

// Pin is the sha256 SPKI pin of the gateway CA, for --tunnel-pin.
func (g *Gateway) Pin() string { return spkiPin(g.CA.Cert) }

// Pid is the pid of the running (or last) gateway process.
func (g *Gateway) Pid() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.proc == nil {
		return 0
	}
	return g.proc.Pid()
}

// Pids lists every process this gateway started, including restarts.
func (g *Gateway) Pids() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.pids...)
}

// Running reports whether the gateway process is alive.
func (g *Gateway) Running() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.proc != nil && !g.proc.exited()
}

// Stop ends the gateway process by its pid (SIGTERM, then SIGKILL), to
// play an outage; Restart brings it back on the same address.
func (g *Gateway) Stop() {
	g.mu.Lock()
	p := g.proc
	g.mu.Unlock()
	if p != nil {
		p.stop(10 * time.Second)
	}
	g.removeSharedMemory()
}

// Restart starts a stopped gateway again with the same address, config
// and certificates.
func (g *Gateway) Restart(ctx context.Context) error {
	if g.Running() {
		return fmt.Errorf("%s is still running (pid %d)", g.Kind, g.Pid())
	}
	return g.start(ctx)
}

// Close stops the gateway and removes its directory. Safe to call twice.
func (g *Gateway) Close() {
	g.Stop()
	if g.Dir != "" {
		_ = os.RemoveAll(g.Dir)
	}
}

// LogTail is the end of the gateway's own log (stunnel's, or Squid's
// cache.log), for failure messages.
func (g *Gateway) LogTail() string {
	var out string
	g.mu.Lock()
	if g.proc != nil {
		out = g.proc.tail()
	}
	g.mu.Unlock()
	switch {
	case g.Kind.squid():
		out += tailFile(filepath.Join(g.Dir, "cache.log"), 3000)
	case g.Kind == Nginx:
		out += tailFile(filepath.Join(g.Dir, "error.log"), 3000)
	}
	return out
}

// Log is the gateway process's whole log (stunnel logs every connection
// there at its "info" level).
func (g *Gateway) Log() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.proc == nil {
		return ""
	}
	data, _ := os.ReadFile(g.proc.log)
	return string(data)
}

// AccessLog is Squid's access log (one line per CONNECT); empty for stunnel.
func (g *Gateway) AccessLog() string {
	if !g.Kind.squid() {
		return ""
	}
	data, _ := os.ReadFile(filepath.Join(g.Dir, "access.log"))
	return string(data)
}

func (g *Gateway) start(ctx context.Context) error {
	var (
		p   *process
		err error
	)
	switch g.Kind {
	case Squid, CorporateProxy:
		g.removeSharedMemory()
		// -N: foreground, no daemon; -n: a service name of our own so
		// shared-memory segments never collide with another Squid.
		p, err = startProcess(g.Dir, "squid", "squid", "-N", "-n", g.service, "-f", g.conf)
	case Stunnel:
		p, err = startProcess(g.Dir, "stunnel", "stunnel4", g.conf)
	case HAProxy:
		// -db: foreground.
		p, err = startProcess(g.Dir, "haproxy", "haproxy", "-db", "-f", g.conf)
	case Nginx:
		// Its own prefix, config and error log; the pid file is in the
		// config; never Debian's system service.
		p, err = startProcess(g.Dir, "nginx", "nginx", "-p", g.Dir, "-c", g.conf, "-e", filepath.Join(g.Dir, "error.log"), "-g", "daemon off;")
	}
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.proc = p
	g.pids = append(g.pids, p.Pid())
	g.mu.Unlock()
	if g.onStart != nil {
		g.onStart(fmt.Sprintf("gateway-%s-%s", g.Kind, g.Addr), p)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitFor(ctx, p, string(g.Kind)+" accepting mTLS", g.probe); err != nil {
		if g.Kind.squid() {
			err = fmt.Errorf("%w\ncache.log:\n%s", err, tailFile(filepath.Join(g.Dir, "cache.log"), 3000))
		}
		p.stop(5 * time.Second)
		return err
	}
	return nil
}

// probe completes mutual TLS with the user's certificate and, for Squid,
// a CONNECT to Target; for the corporate proxy, a plain CONNECT.
func (g *Gateway) probe() error {
	if g.Kind == CorporateProxy {
		conn, err := net.DialTimeout("tcp", g.Addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		return g.connect(conn)
	}
	pair, err := tls.LoadX509KeyPair(g.ClientCertFile, g.ClientKeyFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(g.CA.Cert)
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", g.Addr, &tls.Config{RootCAs: pool, ServerName: g.ServerName, Certificates: []tls.Certificate{pair}})
	if err != nil {
		return err
	}
	defer conn.Close()
	if g.Kind != Squid {
		return nil
	}
	return g.connect(conn)
}

// writeSnippetConfig writes the platform owner's snippet with the
// placeholders replaced, plus what runs it as a private instance.
func (g *Gateway) writeSnippetConfig() error {
	host, port, _ := net.SplitHostPort(g.Target)
	path := func(name string) string { return filepath.Join(g.Dir, name) }
	certWithKey := path("gateway-with-key.pem")
	if err := concatFiles(certWithKey, g.ServerCertFile, g.ServerKeyFile); err != nil {
		return err
	}
	body := strings.NewReplacer(
		SnippetListen, g.Addr,
		SnippetTarget, g.Target,
		SnippetTargetHost, host,
		SnippetTargetPort, " port "+port,
		SnippetCertWithKey, certWithKey,
		SnippetCert, g.ServerCertFile,
		SnippetKey, g.ServerKeyFile,
		SnippetClientCA, g.ClientCAFile,
	).Replace(g.snippet)
	if !strings.Contains(body, g.Addr) || !strings.Contains(body, host) {
		return fmt.Errorf("%s snippet has no %s or %s placeholder:\n%s", g.Kind, SnippetListen, SnippetTargetHost, g.snippet)
	}
	var cfg, name string
	switch g.Kind {
	case Squid:
		// A private instance: own pid, logs, no system paths; quick stop.
		name = "squid.conf"
		cfg = fmt.Sprintf("%s\n# securekapi e2e: a private instance\nvisible_hostname %s\npid_filename %s\ncache_log %s\naccess_log stdio:%s\ncoredump_dir %s\nnetdb_filename none\npinger_enable off\nmemory_cache_shared off\nshutdown_lifetime 0 seconds\n",
			body, GatewayServerName, path("squid.pid"), path("cache.log"), path("access.log"), g.Dir)
	case Stunnel:
		// Global options must precede the service sections.
		name = "stunnel.conf"
		cfg = "; securekapi e2e: a private instance\nforeground = yes\npid =\nsyslog = no\ndebug = info\n" + body
	case HAProxy:
		name = "haproxy.cfg"
		cfg = body
	case Nginx:
		name = "nginx.conf"
		cfg = fmt.Sprintf("# securekapi e2e: a private instance\nload_module /usr/lib/nginx/modules/ngx_stream_module.so;\npid %s;\nerror_log %s info;\nevents {}\n%s",
			path("nginx.pid"), path("error.log"), body)
	default:
		return fmt.Errorf("gateway kind %q takes no snippet", g.Kind)
	}
	g.conf = path(name)
	if err := os.WriteFile(g.conf, []byte(cfg), 0o644); err != nil {
		return err
	}
	if g.Kind == Squid {
		return squidOwnsDir(g.Dir)
	}
	return nil
}

// concatFiles writes the contents of srcs, in order, to dst (mode 0600).
func concatFiles(dst string, srcs ...string) error {
	var all []byte
	for _, src := range srcs {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		all = append(all, data...)
	}
	return os.WriteFile(dst, all, 0o600)
}

// connect asks Squid on conn for a tunnel to Target.
func (g *Gateway) connect(conn net.Conn) error {
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", g.Target, g.Target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CONNECT %s through squid: %s", g.Target, resp.Status)
	}
	return nil
}

// writeSquidConfig: a cache-less forward proxy on an https_port that
// requires a client certificate from the client CA and allows CONNECT to
// Target only.
//
// As root, Squid drops to its cache_effective_user (Debian's "proxy") and
// refuses to stay root, so its directory must be writable by that user: the
// gateway gets its own 0755 directory under the system temp dir, chowned
// to it. Squid loads the certificates and key while still root.
//
// sslcontext is required for TLS session resumption with client
// certificates: without a session ID context, OpenSSL refuses every resumed
// handshake with an "internal error" alert, so every other connection of a
// client that caches sessions (Go's, and so the loopback proxy) would fail.
func (g *Gateway) writeSquidConfig() error {
	host, port, _ := net.SplitHostPort(g.Target)
	dstACL := "dstdomain " + host
	if ip := net.ParseIP(host); ip != nil {
		dstACL = "dst " + ip.String()
	}
	path := func(name string) string { return filepath.Join(g.Dir, name) }
	port0 := fmt.Sprintf("https_port %s tls-cert=%s tls-key=%s tls-cafile=%s clientca=%s sslcontext=securekapi-e2e-gateway",
		g.Addr, g.ServerCertFile, g.ServerKeyFile, g.ClientCAFile, g.ClientCAFile)
	role := "a mutual-TLS access gateway (connect mode)"
	hosts := "/etc/hosts"
	if g.Kind == CorporateProxy {
		port0, role = "http_port "+g.Addr, "a corporate forward proxy"
		// Target's name resolves to loopback here, and only here.
		hosts = path("hosts")
		if err := os.WriteFile(hosts, []byte("127.0.0.1 "+host+"\n"), 0o644); err != nil {
			return err
		}
	}
	cfg := fmt.Sprintf(`# securekapi e2e: Squid as %s
%s
hosts_file %s
visible_hostname %s
acl CONNECT method CONNECT
acl gateway_target_port port %s
acl gateway_target %s
acl gateway_clients src 127.0.0.0/8 ::1
http_access deny !CONNECT
http_access deny !gateway_target_port
http_access deny !gateway_target
http_access allow CONNECT gateway_clients
http_access deny all
cache deny all
cache_mem 0 MB
memory_cache_shared off
pid_filename %s
cache_log %s
access_log stdio:%s
coredump_dir %s
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
`, role, port0, hosts, GatewayServerName,
		port, dstACL, path("squid.pid"), path("cache.log"), path("access.log"), g.Dir)
	g.conf = path("squid.conf")
	if err := os.WriteFile(g.conf, []byte(cfg), 0o644); err != nil {
		return err
	}
	return squidOwnsDir(g.Dir)
}

// squidOwnsDir hands dir to Squid's effective user when we are root.
func squidOwnsDir(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("proxy")
	if err != nil {
		return fmt.Errorf("squid runs as user proxy when started as root: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// removeSharedMemory drops Squid's /dev/shm segments for this service,
// which a killed Squid leaves behind.
func (g *Gateway) removeSharedMemory() {
	if !g.Kind.squid() || g.service == "" {
		return
	}
	matches, _ := filepath.Glob("/dev/shm/" + g.service + "-*")
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

// writeStunnelConfig: stunnel in server mode, requiring and verifying a
// client certificate from the client CA, forwarding to Target.
func (g *Gateway) writeStunnelConfig() error {
	cfg := fmt.Sprintf(`; securekapi e2e: stunnel as a mutual-TLS access gateway (direct mode)
foreground = yes
pid =
syslog = no
debug = info
[gateway]
accept = %s
connect = %s
cert = %s
key = %s
CAfile = %s
requireCert = yes
verifyChain = yes
`, g.Addr, g.Target, g.ServerCertFile, g.ServerKeyFile, g.ClientCAFile)
	g.conf = filepath.Join(g.Dir, "stunnel.conf")
	return os.WriteFile(g.conf, []byte(cfg), 0o600)
}

func tailFile(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(-max, 2)
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// spkiPin is the kubeadm-style sha256:<hex SPKI> pin of cert.
func spkiPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}
