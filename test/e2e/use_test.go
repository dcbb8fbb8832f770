package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// fakeEndpoint is an HAProxy presenting a certificate of the test's
// choosing on a fixed port, so a test can swap the certificate (a CA
// rotation, an attacker) behind the same URL.
type fakeEndpoint struct {
	t    *testing.T
	port int
	dir  string
	stop func()
}

func newFakeEndpoint(t *testing.T) *fakeEndpoint {
	return &fakeEndpoint{t: t, port: freeTCPPort(t), dir: t.TempDir()}
}

func (e *fakeEndpoint) URL() string { return fmt.Sprintf("https://127.0.0.1:%d", e.port) }

// serve (re)starts HAProxy presenting leaf, then the chain, with its key.
// It answers every request with 200, which is all a TLS check needs.
func (e *fakeEndpoint) serve(leaf *stack.Leaf, chain ...*stack.CA) {
	t := e.t
	t.Helper()
	if e.stop != nil {
		e.stop()
	}
	pem := append([]byte{}, leaf.CertPEM...)
	for _, ca := range chain {
		pem = append(pem, ca.CertPEM...)
	}
	pem = append(pem, leaf.KeyPEM...)
	pemFile := filepath.Join(e.dir, "endpoint.pem")
	if err := os.WriteFile(pemFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend endpoint
  bind 127.0.0.1:%d ssl crt %s alpn http/1.1
  http-request return status 200 content-type text/plain string ok
`, e.port, pemFile)
	cfgFile := filepath.Join(e.dir, "haproxy.cfg")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command("haproxy", "-db", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	e.stop = func() { _ = cmd.Process.Kill(); <-exited; e.stop = nil }
	t.Cleanup(func() {
		if e.stop != nil {
			e.stop()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.port)); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("haproxy exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// register writes a cluster into the session's registry the way a
// platform owner's profile would, without a live check, so the test
// controls exactly what `use` is told to expect.
func register(t *testing.T, se *stack.Session, c profile.Cluster) {
	t.Helper()
	if c.OIDC.IssuerURL == "" {
		c.OIDC = profile.OIDC{IssuerURL: shared.IssuerURL, ClientID: shared.ClientID, CAFile: shared.DexCAFile}
	}
	p := &profile.Profile{Clusters: []profile.Cluster{c}}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "profile.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// --replace: tests re-register a name on purpose (reregister).
	if r := se.Securekapi(context.Background(), "import", file, "--no-check", "--replace"); r.Err != nil {
		t.Fatalf("import: %v\n%s", r.Err, r.Stderr)
	}
}

func pinOf(c *x509.Certificate) string { return string(trust.PinFor(c)) }

// kubeconfigSnapshot reads the session's kubeconfig so a test can prove a
// refused `use` left it byte for byte unchanged.
func kubeconfigSnapshot(t *testing.T, se *stack.Session) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(se.Dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestUseRefuses: every way an endpoint can fail to be the one the user
// was told to expect gets its own error, and kubeconfig is left untouched.
func TestUseRefuses(t *testing.T) {
	attackerCA, err := stack.NewCA("Public-Looking Attacker CA")
	if err != nil {
		t.Fatal(err)
	}
	enterprisePin := pinOf(shared.EnterpriseCA.Cert)
	names := stack.LeafOptions{DNSNames: []string{stack.EndpointServerName}}

	cases := []struct {
		name string
		// setup returns the cluster to register, serving what it needs.
		setup func(t *testing.T, se *stack.Session) profile.Cluster
		want  []string
	}{{
		name: "wrong pin on the real endpoint",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			return profile.Cluster{Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName,
				CertificateAuthorityData: shared.EnterpriseCA.CertPEM,
				Pins:                     []string{"sha256:" + strings.Repeat("ab", 32)}}
		},
		want: []string{"none of its keys is pinned", "sha256:" + strings.Repeat("ab", 32), enterprisePin},
	}, {
		// The attacker's CA is in this machine's system roots (think of a
		// mis-issuing public CA): the chain verifies, the name matches, and
		// only the pin stands between the user and the attacker.
		name: "another CA that the system roots trust",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			roots := filepath.Join(t.TempDir(), "roots.pem")
			if err := os.WriteFile(roots, attackerCA.CertPEM, 0o644); err != nil {
				t.Fatal(err)
			}
			se.Env = append(se.Env, "SSL_CERT_FILE="+roots, "SSL_CERT_DIR=/nonexistent")
			leaf, err := attackerCA.Issue(stack.EndpointServerName, names)
			if err != nil {
				t.Fatal(err)
			}
			ep := newFakeEndpoint(t)
			ep.serve(leaf, attackerCA)
			return profile.Cluster{Server: ep.URL(), TLSServerName: stack.EndpointServerName, Pins: []string{enterprisePin}}
		},
		want: []string{"none of its keys is pinned", enterprisePin, "Public-Looking Attacker CA", "intercepting"},
	}, {
		name: "another CA than the published bundle",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			leaf, err := attackerCA.Issue(stack.EndpointServerName, names)
			if err != nil {
				t.Fatal(err)
			}
			ep := newFakeEndpoint(t)
			ep.serve(leaf, attackerCA)
			return profile.Cluster{Server: ep.URL(), TLSServerName: stack.EndpointServerName,
				CertificateAuthorityData: shared.EnterpriseCA.CertPEM, Pins: []string{enterprisePin}}
		},
		want: []string{"issued by \"CN=Public-Looking Attacker CA", "which no trusted CA signed", "--ca-file"},
	}, {
		name: "expired certificate",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			leaf, err := shared.EnterpriseCA.Issue(stack.EndpointServerName, stack.LeafOptions{
				DNSNames: names.DNSNames, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			ep := newFakeEndpoint(t)
			ep.serve(leaf, shared.EnterpriseCA)
			return profile.Cluster{Server: ep.URL(), TLSServerName: stack.EndpointServerName, Pins: []string{enterprisePin}}
		},
		want: []string{"expired at", "renew"},
	}, {
		name: "hostname mismatch",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			leaf, err := shared.EnterpriseCA.Issue("other.example.test", stack.LeafOptions{DNSNames: []string{"other.example.test"}})
			if err != nil {
				t.Fatal(err)
			}
			ep := newFakeEndpoint(t)
			ep.serve(leaf, shared.EnterpriseCA)
			return profile.Cluster{Server: ep.URL(), TLSServerName: stack.EndpointServerName, Pins: []string{enterprisePin}}
		},
		want: []string{"other.example.test", `not for "kapi.example.test"`},
	}, {
		name: "self-signed certificate",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			leaf, err := stack.SelfSigned(stack.EndpointServerName, names)
			if err != nil {
				t.Fatal(err)
			}
			ep := newFakeEndpoint(t)
			ep.serve(leaf)
			return profile.Cluster{Server: ep.URL(), TLSServerName: stack.EndpointServerName, Pins: []string{enterprisePin}}
		},
		want: []string{"self-signed certificate", enterprisePin},
	}, {
		name: "unreachable endpoint",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			return profile.Cluster{Server: fmt.Sprintf("https://127.0.0.1:%d", freeTCPPort(t)), TLSServerName: stack.EndpointServerName, Pins: []string{enterprisePin}}
		},
		want: []string{"cannot reach", "connection refused"},
	}, {
		// A listener that accepts and never answers: only a bounded
		// handshake timeout gets the user their prompt back.
		name: "endpoint that never answers",
		setup: func(t *testing.T, se *stack.Session) profile.Cluster {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					t.Cleanup(func() { c.Close() })
				}
			}()
			return profile.Cluster{Server: "https://" + l.Addr().String(), TLSServerName: stack.EndpointServerName, Pins: []string{enterprisePin}}
		},
		want: []string{"cannot reach", "no answer within"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			se := newSession(t, stack.Reader) // kubeconfig already holds a working "e2e"
			c := tc.setup(t, se)
			c.Name = "target"
			register(t, se, c)
			before := kubeconfigSnapshot(t, se)
			r := se.Securekapi(context.Background(), "use", "target")
			if r.Err == nil {
				t.Fatalf("use accepted the endpoint:\n%s", r.Stderr)
			}
			if r.Stdout != "" {
				t.Errorf("use wrote to stdout: %q", r.Stdout)
			}
			for _, w := range append(tc.want, "kubeconfig was not changed") {
				if !strings.Contains(r.Stderr, w) {
					t.Errorf("error lacks %q:\n%s", w, r.Stderr)
				}
			}
			if after := kubeconfigSnapshot(t, se); !bytes.Equal(before, after) {
				t.Errorf("kubeconfig changed by a refused use:\n%s", after)
			}
		})
	}
}

// TestUseAcceptsPinnedCARotation: the platform owner published pins for the
// old and the new CA; when the endpoint switches, `use` follows, says so,
// and kubeconfig trusts exactly the new chain.
func TestUseAcceptsPinnedCARotation(t *testing.T) {
	newCA, err := stack.NewCA("Example Enterprise Root CA 2027")
	if err != nil {
		t.Fatal(err)
	}
	names := stack.LeafOptions{DNSNames: []string{stack.EndpointServerName}}
	oldLeaf, err := shared.EnterpriseCA.Issue(stack.EndpointServerName, names)
	if err != nil {
		t.Fatal(err)
	}
	newLeaf, err := newCA.Issue(stack.EndpointServerName, names)
	if err != nil {
		t.Fatal(err)
	}
	se := newSession(t, stack.Reader)
	ep := newFakeEndpoint(t)
	ep.serve(oldLeaf, shared.EnterpriseCA)
	register(t, se, profile.Cluster{Name: "rotating", Server: ep.URL(), TLSServerName: stack.EndpointServerName,
		Pins: []string{pinOf(shared.EnterpriseCA.Cert), pinOf(newCA.Cert)}})
	ctx := context.Background()
	if r := se.Securekapi(ctx, "use", "rotating"); r.Err != nil {
		t.Fatalf("use before the rotation: %v\n%s", r.Err, r.Stderr)
	}
	if ca := clusterCA(t, se, "rotating"); !bytes.Equal(ca, shared.EnterpriseCA.CertPEM) {
		t.Fatalf("kubeconfig trusts %s, want the old enterprise CA alone", ca)
	}

	ep.serve(newLeaf, newCA)
	r := se.Securekapi(ctx, "use", "rotating")
	if r.Err != nil {
		t.Fatalf("use after a pinned rotation: %v\n%s", r.Err, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "CA rotation") {
		t.Errorf("use did not say the chain rotated:\n%s", r.Stderr)
	}
	if ca := clusterCA(t, se, "rotating"); !bytes.Equal(ca, newCA.CertPEM) {
		t.Fatalf("kubeconfig trusts %s, want the new CA alone", ca)
	}
}

func clusterCA(t *testing.T, se *stack.Session, cluster string) []byte {
	t.Helper()
	r := se.Kubectl(context.Background(), "config", "view", "--raw", "-o",
		fmt.Sprintf(`jsonpath={.clusters[?(@.name=="%s")].cluster.certificate-authority-data}`, cluster))
	if r.Err != nil {
		t.Fatalf("kubectl config view: %v\n%s", r.Err, r.Stderr)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.Stdout))
	if err != nil {
		t.Fatalf("certificate-authority-data: %v", err)
	}
	return data
}

// TestUseThenKubectlAndBack: `use` switches the real kubectl to the pinned
// endpoint, and `use -` returns to the previous context, as kubectx does.
func TestUseThenKubectlAndBack(t *testing.T) {
	se := newSession(t, stack.Reader)
	ctx := context.Background()
	// A context the user had before: the admin's direct access.
	if r := se.Kubectl(ctx, "config", "set-credentials", "admin", "--token="+shared.AdminToken); r.Err != nil {
		t.Fatal(r.Stderr)
	}
	if r := se.Kubectl(ctx, "config", "set-cluster", "direct", "--server="+shared.APIServerURL, "--certificate-authority="+shared.ClusterCAFile, "--embed-certs"); r.Err != nil {
		t.Fatal(r.Stderr)
	}
	if r := se.Kubectl(ctx, "config", "set-context", "admin@direct", "--cluster=direct", "--user=admin"); r.Err != nil {
		t.Fatal(r.Stderr)
	}
	if r := se.Kubectl(ctx, "config", "use-context", "admin@direct"); r.Err != nil {
		t.Fatal(r.Stderr)
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se)
	if r := se.Kubectl(ctx, "get", "ns", "-o", "name"); r.Err != nil || !strings.Contains(r.Stdout, "namespace/default") {
		t.Fatalf("kubectl get ns after use: %v\n%s%s\nkube-apiserver log:\n%s", r.Err, r.Stdout, r.Stderr, shared.LogTail("kube-apiserver"))
	}
	if r := se.Securekapi(ctx, "use", "-"); r.Err != nil {
		t.Fatalf("use -: %v\n%s", r.Err, r.Stderr)
	}
	if r := se.Kubectl(ctx, "config", "current-context"); strings.TrimSpace(r.Stdout) != "admin@direct" {
		t.Fatalf("after use -, current context = %q", r.Stdout)
	}
	// The admin entries survived the rewrite untouched.
	if r := se.Kubectl(ctx, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); strings.TrimSpace(r.Stdout) != "e2e-admin" {
		t.Fatalf("admin context after use and use -: %q %s", r.Stdout, r.Stderr)
	}

	// A context in kubeconfig that is not registered is only switched to,
	// as kubectl config use-context would: nothing pinned, and said so.
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use e2e again: %v\n%s", r.Err, r.Stderr)
	}
	before := se.Kubectl(ctx, "config", "view", "--raw", "-o", "jsonpath={.clusters}").Stdout
	r := se.Securekapi(ctx, "use", "admin@direct")
	if r.Err != nil || !strings.Contains(r.Stderr, "not a registered securekapi cluster") || !strings.Contains(r.Stderr, "nothing was pinned") {
		t.Fatalf("use of the unregistered admin@direct: %v\n%s", r.Err, r.Stderr)
	}
	if after := se.Kubectl(ctx, "config", "view", "--raw", "-o", "jsonpath={.clusters}").Stdout; after != before {
		t.Errorf("use of an unregistered context changed the clusters:\n%s\n->\n%s", before, after)
	}
	if r := se.Kubectl(ctx, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); strings.TrimSpace(r.Stdout) != "e2e-admin" {
		t.Fatalf("after use admin@direct, kubectl is %q %s", r.Stdout, r.Stderr)
	}
}
