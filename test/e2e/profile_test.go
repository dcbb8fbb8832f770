package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// platformOwner runs the built plugin as the platform owner does, outside
// any user's session.
func platformOwner(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Getenv("SECUREKAPI_BIN"), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl-securekapi %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String()
}

// profileArgs describe the stack's endpoint and Dex client as NAME. The
// API server maps users by the email and groups claims, so users must ask
// Dex for those scopes.
func profileArgs(name string, extra ...string) []string {
	return append([]string{"profile", name, "--server", shared.EndpointURL, "--tls-server-name", stack.EndpointServerName,
		"--ca-file", shared.EnterpriseCAFile, "--oidc-issuer-url", shared.IssuerURL, "--oidc-client-id", shared.ClientID,
		"--oidc-extra-scope", "email", "--oidc-extra-scope", "groups"}, extra...)
}

// thirdParty is a fresh user machine whose system roots (SSL_CERT_FILE,
// with no SSL_CERT_DIR) are exactly cas: the Dex CA stands for a publicly
// trusted IdP, as the profile carries no OIDC CA file.
func thirdParty(t *testing.T, cas ...[]byte) *stack.Session {
	t.Helper()
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(se.Dir, "system-roots.pem")
	if err := os.WriteFile(bundle, bytes.Join(append([][]byte{shared.DexCA.CertPEM}, cas...), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	noDir := filepath.Join(se.Dir, "no-cert-dir")
	if err := os.Mkdir(noDir, 0o755); err != nil {
		t.Fatal(err)
	}
	se.Env = append(se.Env, "SSL_CERT_FILE="+bundle, "SSL_CERT_DIR="+noDir)
	return se
}

// useLoginWhoami switches to cluster e2e, logs in through the browser and
// checks the API server sees the reader.
func useLoginWhoami(t *testing.T, se *stack.Session) {
	t.Helper()
	if r := se.Securekapi(context.Background(), "use", "e2e"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("API server saw %+v, want %s", w.Status.UserInfo, stack.Reader.Email)
	}
}

// TestProfileFileImportUseLogin is the whole hand-over: the platform owner
// writes a profile from the live endpoint, a third party imports the file,
// switches to the cluster, logs in, and kubectl works as them.
func TestProfileFileImportUseLogin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "acme.yaml")
	_, msgs := platformOwner(t, profileArgs("e2e", "-o", file)...)
	if !strings.Contains(msgs, "verified") {
		t.Errorf("profile did not report the verified endpoint:\n%s", msgs)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(data)
	if err != nil {
		t.Fatalf("the written profile does not parse: %v\n%s", err, data)
	}
	// The pin is the enterprise CA's, the one `pin` tells owners to publish.
	pin, _ := platformOwner(t, "pin", shared.EndpointURL, "--tls-server-name", stack.EndpointServerName)
	if c := p.Clusters[0]; len(c.Pins) != 1 || c.Pins[0] != strings.TrimSpace(pin) || !bytes.Equal(c.CertificateAuthorityData, shared.EnterpriseCA.CertPEM) {
		t.Fatalf("profile pins %v and CA data %q; want the enterprise CA and its pin %s", c.Pins, c.CertificateAuthorityData, pin)
	}

	se := thirdParty(t)
	if r := se.Securekapi(context.Background(), "import", file); r.Err != nil {
		t.Fatalf("import: %v\n%s", r.Err, r.Stderr)
	}
	useLoginWhoami(t, se)
}

// TestProfileRefusesAnUnverifiedEndpoint: without the CA that issues the
// endpoint's certificate, profile publishes nothing.
func TestProfileRefusesAnUnverifiedEndpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "p.yaml")
	cmd := exec.CommandContext(ctx, os.Getenv("SECUREKAPI_BIN"), "profile", "e2e", "--server", shared.EndpointURL,
		"--tls-server-name", stack.EndpointServerName, "--oidc-issuer-url", shared.IssuerURL, "--oidc-client-id", shared.ClientID, "-o", out)
	msgs, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msgs), "pass --ca-file") {
		t.Fatalf("profile without a CA that vouches for the endpoint: err=%v\n%s", err, msgs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("profile wrote %s anyway", out)
	}
}

// serveDir serves dir over https with a certificate for 127.0.0.1 from ca.
func serveDir(t *testing.T, dir string, ca *stack.CA) string {
	t.Helper()
	leaf, err := ca.Issue("127.0.0.1", stack.LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.FileServer(http.Dir(dir)))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the attacker case fails handshakes on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/" + "securekapi-profile.yaml"
}

// TestProfilePublishImportOverHTTPS: the owner publishes one profile for
// two clusters into a web server's directory; a third party imports it
// over verified https, uses one and logs in. The same profile served by a
// server their system does not trust is refused, and their registry stays
// as it was.
func TestProfilePublishImportOverHTTPS(t *testing.T) {
	pub := t.TempDir()
	platformOwner(t, profileArgs("e2e", "--publish-dir", pub)...)
	_, msgs := platformOwner(t, profileArgs("e2e-b", "--publish-dir", pub, "--append", "--namespace", "team-b")...)
	if !strings.Contains(msgs, "kubectl securekapi import https://") || !strings.Contains(msgs, "clusters: e2e, e2e-b") {
		t.Errorf("publish messages lack the import hint or the cluster list:\n%s", msgs)
	}
	webCA, err := stack.NewCA("Example Web CA")
	if err != nil {
		t.Fatal(err)
	}
	url := serveDir(t, pub, webCA)

	se := thirdParty(t, webCA.CertPEM)
	r := se.Securekapi(context.Background(), "import", url)
	if r.Err != nil {
		t.Fatalf("import %s: %v\n%s", url, r.Err, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Registered e2e, e2e-b") {
		t.Errorf("import did not register both clusters:\n%s", r.Stderr)
	}
	useLoginWhoami(t, se)

	t.Run("an untrusted server is refused", func(t *testing.T) {
		registry := filepath.Join(se.Dir, "config", "clusters.yaml")
		before, err := os.ReadFile(registry)
		if err != nil {
			t.Fatal(err)
		}
		// The attacker serves a profile of their own (same names, their
		// endpoint) with a certificate from a CA the user does not trust.
		evil := t.TempDir()
		tampered := strings.ReplaceAll(mustRead(t, filepath.Join(pub, "securekapi-profile.yaml")), shared.EndpointURL, "https://127.0.0.1:1")
		if err := os.WriteFile(filepath.Join(evil, "securekapi-profile.yaml"), []byte(tampered), 0o644); err != nil {
			t.Fatal(err)
		}
		attackerCA, err := stack.NewCA("Attacker CA")
		if err != nil {
			t.Fatal(err)
		}
		r := se.Securekapi(context.Background(), "import", serveDir(t, evil, attackerCA))
		if r.Err == nil || !strings.Contains(r.Stderr, "certificate signed by unknown authority") {
			t.Fatalf("import from an untrusted server: err=%v\n%s", r.Err, r.Stderr)
		}
		after, err := os.ReadFile(registry)
		if err != nil || !bytes.Equal(before, after) {
			t.Fatalf("the registry changed after a refused import (err %v):\n%s", err, after)
		}
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestImportOverARegisteredCluster: a rogue profile re-uses the name of the
// user's working cluster, pointing it at an attacker's endpoint (a real
// HAProxy with a certificate from the attacker's CA, which the profile
// pins). import refuses without --replace, shows the change and leaves the
// registry and kubeconfig alone. With --replace it applies, and `use` says
// the trust settings changed rather than calling it a CA rotation.
func TestImportOverARegisteredCluster(t *testing.T) {
	se := newSession(t, stack.Reader) // "e2e" registered and in use
	attackerCA, err := stack.NewCA("Example Enterprise Root CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := attackerCA.Issue(stack.EndpointServerName, stack.LeafOptions{DNSNames: []string{stack.EndpointServerName}})
	if err != nil {
		t.Fatal(err)
	}
	ep := newFakeEndpoint(t)
	ep.serve(leaf, attackerCA)
	rogue := profile.Cluster{Name: "e2e", Server: ep.URL(), TLSServerName: stack.EndpointServerName,
		CertificateAuthorityData: attackerCA.CertPEM, Pins: []string{pinOf(attackerCA.Cert)},
		OIDC: profile.OIDC{IssuerURL: shared.IssuerURL, ClientID: shared.ClientID, CAFile: shared.DexCAFile}}
	data, err := (&profile.Profile{Clusters: []profile.Cluster{rogue}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rogue.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	registry := filepath.Join(se.Dir, "config", "clusters.yaml")
	registered, kubeconfig := mustRead(t, registry), kubeconfigSnapshot(t, se)
	ctx := context.Background()

	r := se.Securekapi(ctx, "import", file)
	if r.Err == nil {
		t.Fatalf("the rogue profile replaced the registered cluster:\n%s", r.Stderr)
	}
	for _, want := range []string{"server: " + shared.EndpointURL + " -> " + ep.URL(), "pins: ", " -> " + pinOf(attackerCA.Cert),
		"oidc.extraScopes: email, groups -> (none)", "nothing was imported", "--replace"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("refusal lacks %q:\n%s", want, r.Stderr)
		}
	}
	if mustRead(t, registry) != registered || !bytes.Equal(kubeconfigSnapshot(t, se), kubeconfig) {
		t.Fatal("a refused import changed the registry or kubeconfig")
	}

	if r := se.Securekapi(ctx, "import", file, "--replace"); r.Err != nil || !strings.Contains(r.Stderr, "replacing the registered settings") {
		t.Fatalf("import --replace: %v\n%s", r.Err, r.Stderr)
	}
	r = se.Securekapi(ctx, "use", "e2e")
	if r.Err != nil {
		t.Fatalf("use after --replace: %v\n%s", r.Err, r.Stderr)
	}
	if strings.Contains(r.Stderr, "(a CA rotation)") || !strings.Contains(r.Stderr, "trust settings changed since the last use") {
		t.Errorf("use after a replaced registration:\n%s", r.Stderr)
	}
	if ca := clusterCA(t, se, "e2e"); !bytes.Equal(ca, attackerCA.CertPEM) {
		t.Errorf("kubeconfig trusts %s, want the replaced chain", ca)
	}
}
