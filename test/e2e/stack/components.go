package stack

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func (s *Stack) writeCertificates(context.Context) error {
	var err error
	if s.EnterpriseCA, err = NewCA("Example Enterprise Root CA"); err != nil {
		return err
	}
	if s.DexCA, err = NewCA("Example Dex CA"); err != nil {
		return err
	}
	// 90 days, like a public certificate: doctor warns under 30.
	kapi, err := s.EnterpriseCA.Issue(EndpointServerName, LeafOptions{DNSNames: []string{EndpointServerName}, NotAfter: time.Now().Add(90 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	dex, err := s.DexCA.Issue("dex", LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}})
	if err != nil {
		return err
	}
	s.EnterpriseCAFile = s.path("enterprise-ca.crt")
	s.DexCAFile = s.path("dex-ca.crt")
	writes := []error{
		os.WriteFile(s.EnterpriseCAFile, s.EnterpriseCA.CertPEM, 0o644),
		os.WriteFile(s.DexCAFile, s.DexCA.CertPEM, 0o644),
		// The endpoint sends its full chain (leaf, then the enterprise CA),
		// as production endpoints should, so clients can pin the CA.
		os.WriteFile(s.path("kapi.pem"), concat(kapi.CertPEM, s.EnterpriseCA.CertPEM, kapi.KeyPEM), 0o600),
		dex.WriteFiles(s.path("dex.crt"), s.path("dex.key")),
		writeServiceAccountKeys(s.path("sa.key"), s.path("sa.pub")),
	}
	for _, err := range writes {
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) startEtcd(ctx context.Context) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(client)
	p, err := startProcess(s.Dir, "etcd", "etcd",
		"--name", "e2e",
		"--data-dir", s.path("etcd-data"),
		"--listen-client-urls", url, "--advertise-client-urls", url,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peer),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peer),
		"--initial-cluster", "e2e=http://127.0.0.1:"+strconv.Itoa(peer))
	if err != nil {
		return err
	}
	s.track(p)
	s.etcdURL = url
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitFor(ctx, p, "etcd health", func() error {
		resp, err := http.Get(url + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	})
}

func (s *Stack) startDex(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	grpcPort, err := freePort()
	if err != nil {
		return err
	}
	s.IssuerURL = fmt.Sprintf("https://127.0.0.1:%d/dex", port)
	s.DexGRPCAddr = fmt.Sprintf("127.0.0.1:%d", grpcPort)
	// Dex keeps its state (signing keys, refresh tokens) in the stack's
	// etcd, as a production Dex keeps it in a database: a restarted Dex
	// (tests stop it to play an outage) still honours the tokens and keys
	// it issued before, instead of rotating everything as memory storage
	// would.
	cfg, err := s.dexConfig(dexSite{issuer: s.IssuerURL, listen: fmt.Sprintf("127.0.0.1:%d", port),
		cert: s.path("dex.crt"), key: s.path("dex.key"),
		storage: fmt.Sprintf("type: etcd\n  config:\n    endpoints: [%s]\n    namespace: dex/", s.etcdURL),
		grpc:    fmt.Sprintf("grpc:\n  addr: %s\n", s.DexGRPCAddr)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.path("dex.yaml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	return s.runDex(ctx)
}

func (s *Stack) runDex(ctx context.Context) error {
	p, err := startProcess(s.Dir, "dex", s.toolsBin+"/dex", "serve", s.path("dex.yaml"))
	if err != nil {
		return err
	}
	s.track(p)
	client := s.httpsClient(s.DexCA.CertPEM)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitForDiscovery(ctx, p, "Dex discovery", client, s.IssuerURL)
}

// dexSite is where one Dex runs and keeps its state: the issuer URL, the
// host:port it serves https on with its pair, its storage block (YAML
// under storage:) and its grpc block (empty for none).
type dexSite struct {
	issuer, listen, cert, key, storage, grpc string
}

// dexConfig registers a public client (any loopback redirect is accepted
// when redirectURIs is empty) and the static users, with refresh token
// rotation on, as Dex ships.
func (s *Stack) dexConfig(site dexSite) (string, error) {
	var users strings.Builder
	for _, u := range []User{Reader, Outsider} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), 10)
		if err != nil {
			return "", err
		}
		name := strings.SplitN(u.Email, "@", 2)[0]
		fmt.Fprintf(&users, "- email: %q\n  hash: %q\n  username: %q\n  userID: %q\n  groups: [%s]\n",
			u.Email, hash, name, u.ID, strings.Join(u.Groups, ", "))
	}
	return fmt.Sprintf(`issuer: %s
storage:
  %s
web:
  https: %s
  tlsCert: %s
  tlsKey: %s
%slogger:
  level: info
expiry:
  idTokens: %s
  deviceRequests: 5m
oauth2:
  skipApprovalScreen: true
  responseTypes: [code]
  passwordConnector: local
enablePasswordDB: true
staticClients:
- id: %s
  name: securekapi
  public: true
staticPasswords:
%s%s`, site.issuer, site.storage, site.listen, site.cert, site.key, site.grpc, s.IDTokenTTL, s.ClientID, users.String(), s.ciConnector(site.issuer)), nil
}

// CIConnectorID is Dex's connector for the CI provider's stand-in: token
// exchange (RFC 8693) names it in connector_id.
const CIConnectorID = "github-actions"

// ciConnector is Dex's oidc connector for the CI issuer, as a platform owner
// would configure it for GitHub Actions: it verifies the CI's tokens
// against the CI issuer's keys (Dex does not check their audience), and,
// since those tokens carry no name or email, maps the identity from their
// claims: the subject (repo:org/app:ref:...) as the email the API server
// takes the username from, the repository as the group. clientID, secret
// and redirectURI are required by the connector but serve only browser
// logins, which nobody does through it.
func (s *Stack) ciConnector(issuer string) string {
	if s.CI == nil {
		return ""
	}
	return fmt.Sprintf(`connectors:
- type: oidc
  id: %s
  name: GitHub Actions
  config:
    issuer: %s
    rootCAs: [%s]
    clientID: dex
    clientSecret: unused
    redirectURI: %s/callback
    scopes: [openid]
    userNameKey: sub
    insecureSkipEmailVerified: true
    insecureEnableGroups: true
    claimMapping:
      email: sub
      groups: repository
`, CIConnectorID, s.CI.URL, s.CI.CAFile, issuer)
}

func (s *Stack) startAPIServer(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.AdminToken = randomToken()
	if err := os.WriteFile(s.path("tokens.csv"), []byte(s.AdminToken+",e2e-admin,e2e-admin,system:masters\n"), 0o600); err != nil {
		return err
	}
	// The endpoint's URL is the CI issuer's audience, so its port is
	// settled before kube-apiserver's configuration is written.
	if s.EndpointURL == "" {
		endpointPort, err := freePort()
		if err != nil {
			return err
		}
		s.EndpointURL = fmt.Sprintf("https://127.0.0.1:%d", endpointPort)
	}
	if err := s.writeAuthnConfig(ctx); err != nil {
		return err
	}
	certDir := s.path("apiserver-certs")
	p, err := startProcess(s.Dir, "kube-apiserver", s.toolsBin+"/kube-apiserver",
		"--etcd-servers="+s.etcdURL,
		"--cert-dir="+certDir,
		"--secure-port="+strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--service-account-issuer="+ServiceAccountIssuer,
		"--service-account-key-file="+s.path("sa.pub"),
		"--service-account-signing-key-file="+s.path("sa.key"),
		"--authorization-mode=RBAC",
		"--token-auth-file="+s.path("tokens.csv"),
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authentication-config="+s.AuthnConfigFile,
	)
	if err != nil {
		return err
	}
	s.track(p)
	s.APIServerURL = fmt.Sprintf("https://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	// The serving pair appears in cert-dir first; read its CA, then wait
	// for readiness over a connection that trusts exactly that CA.
	if err := waitFor(ctx, p, "kube-apiserver certificate", func() error {
		return s.readClusterCA(certDir + "/apiserver.crt")
	}); err != nil {
		return err
	}
	client := s.httpsClient(s.ClusterCAPEM)
	return waitFor(ctx, p, "kube-apiserver /readyz", func() error {
		req, _ := http.NewRequest(http.MethodGet, s.APIServerURL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+s.AdminToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
}

// readClusterCA takes the CA out of the self-signed pair kube-apiserver
// generates: apiserver.crt holds the leaf and then its random CA.
func (s *Stack) readClusterCA(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return err
		}
		if cert.IsCA {
			s.ClusterCAPEM = pem.EncodeToMemory(block)
			s.ClusterCAFile = s.path("cluster-ca.crt")
			return os.WriteFile(s.ClusterCAFile, s.ClusterCAPEM, 0o644)
		}
	}
	return fmt.Errorf("no CA certificate in %s yet", path)
}

// rbac grants the readers group read access through an explicit ClusterRole
// (no controller-manager runs, so the aggregated "view" role is empty) and
// the outsiders group nothing.
const rbac = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: securekapi-e2e-reader
rules:
- apiGroups: [""]
  resources: ["namespaces", "configmaps", "pods", "services"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: securekapi-e2e-readers
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: securekapi-e2e-reader
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: ` + ReaderGroup + `
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: ` + CIUsername + `
`

func (s *Stack) applyRBAC(ctx context.Context) error {
	out, err := s.AdminKubectl(ctx, []byte(rbac), "apply", "-f", "-")
	if err != nil {
		return fmt.Errorf("kubectl apply: %w: %s", err, out)
	}
	return nil
}

// AdminKubectl runs the real kubectl straight at kube-apiserver with the
// admin token, for test setup only (third parties never get this).
func (s *Stack) AdminKubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	base := []string{"--server=" + s.APIServerURL, "--certificate-authority=" + s.ClusterCAFile,
		"--token=" + s.AdminToken, "--kubeconfig=/dev/null"}
	cmd := exec.CommandContext(ctx, "kubectl", append(base, args...)...)
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	return cmd.CombinedOutput()
}

// startHAProxy serves the endpoint on the port startAPIServer settled.
func (s *Stack) startHAProxy(ctx context.Context) error {
	bind := strings.TrimPrefix(s.EndpointURL, "https://")
	if err := s.writeAdminKubeconfig(); err != nil {
		return err
	}
	if err := s.PublishClusterCA(ctx); err != nil {
		return err
	}
	cfg, err := s.ExposeHAProxy(ctx, bind)
	if err != nil {
		return err
	}
	s.haproxyCfg = s.path("haproxy.cfg")
	if err := os.WriteFile(s.haproxyCfg, cfg, 0o600); err != nil {
		return err
	}
	return s.runHAProxy(ctx)
}

// ExposeHAProxy runs the built plugin ($SECUREKAPI_BIN) the way a platform
// owner would, `kubectl securekapi expose --via haproxy`, against this
// cluster through the admin kubeconfig, and returns the haproxy.cfg it
// prints. The endpoint presents the enterprise chain (kapi.pem); the
// plugin fetches the cluster CA from the cluster and writes it to
// cluster-ca-from-cluster.crt, which the config verifies kube-apiserver with.
func (s *Stack) ExposeHAProxy(ctx context.Context, bind string) ([]byte, error) {
	bin := os.Getenv("SECUREKAPI_BIN")
	if bin == "" {
		return nil, fmt.Errorf("set SECUREKAPI_BIN to the built kubectl-securekapi (make build): the stack's HAProxy runs from its `expose --via haproxy` output")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "expose", "--via", "haproxy", "--host", EndpointServerName,
		"--bind", bind, "--cert-file", s.path("kapi.pem"), "--ca-file", s.path("cluster-ca-from-cluster.crt"),
		"--upstream", strings.TrimPrefix(s.APIServerURL, "https://"), "--kubeconfig", s.AdminKubeconfig())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	_ = os.WriteFile(s.path("expose.log"), stderr.Bytes(), 0o600)
	return stdout.Bytes(), nil
}

// AdminKubeconfig is a kubeconfig straight at kube-apiserver with the admin
// token, like the one a platform owner runs expose with. Setup only.
func (s *Stack) AdminKubeconfig() string { return s.path("admin.kubeconfig") }

func (s *Stack) writeAdminKubeconfig() error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e-admin
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: e2e-admin
  user:
    token: %s
contexts:
- name: e2e-admin
  context:
    cluster: e2e-admin
    user: e2e-admin
current-context: e2e-admin
`, s.APIServerURL, s.ClusterCAFile, s.AdminToken)
	return os.WriteFile(s.AdminKubeconfig(), []byte(cfg), 0o600)
}

// PublishClusterCA creates ConfigMap default/kube-root-ca.crt with the
// cluster CA, where expose reads it. In a real cluster
// kube-controller-manager's root-ca-cert-publisher keeps it in every
// namespace; no controller manager runs in this stack, so nothing else
// publishes it.
func (s *Stack) PublishClusterCA(ctx context.Context) error {
	cm, err := json.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]string{"name": "kube-root-ca.crt", "namespace": "default"},
		"data":       map[string]string{"ca.crt": string(s.ClusterCAPEM)},
	})
	if err != nil {
		return err
	}
	if out, err := s.AdminKubectl(ctx, cm, "apply", "-f", "-"); err != nil {
		return fmt.Errorf("publish ConfigMap default/kube-root-ca.crt: %w: %s", err, out)
	}
	return nil
}

func (s *Stack) runHAProxy(ctx context.Context) error {
	// -db keeps it in the foreground, so the pid we track is the one serving.
	p, err := startProcess(s.Dir, "haproxy", "haproxy", "-db", "-f", s.haproxyCfg)
	if err != nil {
		return err
	}
	s.track(p)
	client := s.httpsClientFor(s.EnterpriseCA.CertPEM, EndpointServerName)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return waitFor(ctx, p, "the secondary endpoint", func() error {
		resp, err := client.Get(s.EndpointURL + "/version")
		if err != nil {
			return err
		}
		resp.Body.Close()
		// /version is readable anonymously: a 200 means the re-encrypting
		// hop reached kube-apiserver.
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/version through haproxy: %s", resp.Status)
		}
		return nil
	})
}

func (s *Stack) httpsClient(caPEM []byte) *http.Client { return s.httpsClientFor(caPEM, "") }

// httpsClientFor trusts exactly caPEM and verifies serverName (or the URL
// host when empty).
func (s *Stack) httpsClientFor(caPEM []byte, serverName string) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName},
		},
	}
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
