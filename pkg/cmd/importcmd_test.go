package cmd

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

// userSession is one user's machine: a registry, a kubeconfig and a home,
// all in a temporary directory, with in-memory streams.
type userSession struct {
	dir         string
	env         map[string]string
	out, errOut bytes.Buffer
	g           *GlobalOptions
}

func newUserSession(t *testing.T) *userSession {
	t.Helper()
	s := &userSession{dir: t.TempDir()}
	s.env = map[string]string{
		"HOME":              s.dir,
		"KUBECONFIG":        filepath.Join(s.dir, "kubeconfig"),
		"SECUREKAPI_CONFIG": filepath.Join(s.dir, "config", "clusters.yaml"),
	}
	s.g = &GlobalOptions{
		IOStreams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &s.out, ErrOut: &s.errOut},
		Getenv:    func(k string) string { return s.env[k] },
		Now:       time.Now,
	}
	return s
}

func (s *userSession) registry() string { return s.g.Getenv("SECUREKAPI_CONFIG") }

// importProfile runs import on source; client fetches https sources.
func (s *userSession) importProfile(t *testing.T, source string, client *http.Client, set func(*ImportOptions)) error {
	t.Helper()
	s.out.Reset()
	s.errOut.Reset()
	o := &ImportOptions{GlobalOptions: s.g, Source: source, HTTPClient: client}
	if set != nil {
		set(o)
	}
	if err := o.Complete(); err != nil {
		return err
	}
	return o.Run(t.Context())
}

// command runs a command as the cobra tree would, on this session.
func (s *userSession) command(newCmd func(*GlobalOptions) *cobra.Command, args ...string) error {
	s.out.Reset()
	s.errOut.Reset()
	c := newCmd(s.g)
	c.SetArgs(args)
	c.SetOut(&s.errOut)
	c.SetErr(&s.errOut)
	c.SilenceUsage, c.SilenceErrors = true, true
	return c.Execute()
}

// kubeconfigCA is the CA data kubeconfig holds for cluster.
func (s *userSession) kubeconfigCA(t *testing.T, cluster string) []byte {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(s.g.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cfg.Clusters[cluster]
	if !ok {
		t.Fatalf("kubeconfig has no cluster %q", cluster)
	}
	return c.CertificateAuthorityData
}

// switchableEndpoint is a TLS endpoint whose certificate a test can swap
// behind the same URL, as a CA rotation (or an attacker) would.
type switchableEndpoint struct {
	URL  string
	cert atomic.Pointer[tls.Certificate]
}

func newSwitchableEndpoint(t *testing.T, ca *pair) *switchableEndpoint {
	t.Helper()
	e := &switchableEndpoint{}
	e.serve(t, ca)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return e.cert.Load(), nil }}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// serve presents a fresh leaf for testHost issued by ca.
func (e *switchableEndpoint) serve(t *testing.T, ca *pair) {
	leaf := newPair(t, ca, "leaf", testHost)
	e.cert.Store(&tls.Certificate{Certificate: [][]byte{leaf.cert.Raw, ca.cert.Raw}, PrivateKey: leaf.key})
}

func pinOf(p *pair) string { return string(trust.PinFor(p.cert)) }

// clusterFor is a registration for the endpoint at url trusting cas.
func clusterFor(name, url string, cas ...*pair) profile.Cluster {
	c := profile.Cluster{Name: name, Server: url, TLSServerName: testHost,
		OIDC: profile.OIDC{IssuerURL: "https://login.example.com", ClientID: "kubectl"}}
	for _, ca := range cas {
		c.Pins = append(c.Pins, pinOf(ca))
		c.CertificateAuthorityData = append(c.CertificateAuthorityData, ca.certPEM...)
	}
	return c
}

// writeProfile writes a profile of clusters and returns its path.
func writeProfile(t *testing.T, clusters ...profile.Cluster) string {
	t.Helper()
	data, err := (&profile.Profile{Clusters: clusters}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "profile.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestImportRefusesToChangeARegisteredCluster: a rogue profile re-uses the
// name of a cluster the user already has, with the attacker's endpoint,
// pins, issuer and tunnel. Without --replace it is refused, the change is
// shown field by field and nothing is written. With --replace it applies,
// and `use` does not call the new chain a CA rotation.
func TestImportRefusesToChangeARegisteredCluster(t *testing.T) {
	s := newUserSession(t)
	legitCA, attackerCA := newPair(t, nil, "Acme Root CA"), newPair(t, nil, "Acme Root CA")
	legit := newSwitchableEndpoint(t, legitCA)
	rogueEndpoint := newSwitchableEndpoint(t, attackerCA)

	if err := s.importProfile(t, writeProfile(t, clusterFor("prod", legit.URL, legitCA)), nil, nil); err != nil {
		t.Fatalf("import: %v\n%s", err, s.errOut.String())
	}
	if err := s.command(NewCmdUse, "prod"); err != nil {
		t.Fatalf("use: %v\n%s", err, s.errOut.String())
	}
	registered := readFile(t, s.registry())

	rogue := clusterFor("prod", rogueEndpoint.URL, attackerCA)
	rogue.OIDC.IssuerURL = "https://login.attacker.example"
	tunneled := rogue
	tunneled.Tunnel = &profile.Tunnel{Gateway: "127.0.0.1:1", Mode: "connect", ClientCertFile: "/c.pem", ClientKeyFile: "/k.pem"}
	err := s.importProfile(t, writeProfile(t, tunneled), nil, nil)
	if err == nil {
		t.Fatalf("the rogue profile replaced the registered cluster:\n%s", s.errOut.String())
	}
	for _, want := range []string{
		"server: " + legit.URL + " -> " + rogueEndpoint.URL,
		"pins: " + pinOf(legitCA) + " -> " + pinOf(attackerCA),
		"oidc.issuerURL: https://login.example.com -> https://login.attacker.example",
		"tunnel: (none) -> gateway 127.0.0.1:1 (connect)",
		"nothing was imported", "--replace",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	// Same subject, other key: the CA data must show as changed.
	if !strings.Contains(err.Error(), "certificateAuthorityData: ") {
		t.Errorf("refusal does not show the swapped CA:\n%v", err)
	}
	if !bytes.Equal(registered, readFile(t, s.registry())) {
		t.Fatal("a refused import changed the registry")
	}

	t.Run("a dry run refuses too", func(t *testing.T) {
		err := s.importProfile(t, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.DryRun = true })
		if err == nil || !strings.Contains(err.Error(), "pins: ") {
			t.Fatalf("dry run: err = %v", err)
		}
	})

	t.Run("the same profile again is fine", func(t *testing.T) {
		if err := s.importProfile(t, writeProfile(t, clusterFor("prod", legit.URL, legitCA)), nil, nil); err != nil {
			t.Fatalf("re-import of unchanged settings: %v", err)
		}
		if !strings.Contains(s.errOut.String(), "prod: already registered with these settings") {
			t.Errorf("stderr:\n%s", s.errOut.String())
		}
	})

	t.Run("--replace applies and use does not call it a rotation", func(t *testing.T) {
		if err := s.command(NewCmdImport, writeProfile(t, rogue), "--replace"); err != nil {
			t.Fatalf("import --replace: %v\n%s", err, s.errOut.String())
		}
		if !strings.Contains(s.errOut.String(), "replacing the registered settings") || !strings.Contains(s.errOut.String(), "pins: "+pinOf(legitCA)+" -> "+pinOf(attackerCA)) {
			t.Errorf("import --replace did not show the change:\n%s", s.errOut.String())
		}
		if err := s.command(NewCmdUse, "prod"); err != nil {
			t.Fatalf("use: %v\n%s", err, s.errOut.String())
		}
		msgs := s.errOut.String()
		if strings.Contains(msgs, "rotation") && !strings.Contains(msgs, "not a CA rotation") {
			t.Errorf("use called replaced pins a CA rotation:\n%s", msgs)
		}
		if !strings.Contains(msgs, "trust settings changed since the last use") || !strings.Contains(msgs, "pins "+pinOf(legitCA)+" -> "+pinOf(attackerCA)) {
			t.Errorf("use did not say the trust settings changed:\n%s", msgs)
		}
		if !bytes.Equal(s.kubeconfigCA(t, "prod"), attackerCA.certPEM) {
			t.Error("kubeconfig does not trust the replaced chain")
		}
	})
}

// TestUseCallsAPinnedChainChangeARotation: the endpoint switches to a CA
// the registration already pinned; that, and only that, is a rotation.
func TestUseCallsAPinnedChainChangeARotation(t *testing.T) {
	s := newUserSession(t)
	oldCA, newCA := newPair(t, nil, "Root 2025"), newPair(t, nil, "Root 2027")
	ep := newSwitchableEndpoint(t, oldCA)
	if err := s.importProfile(t, writeProfile(t, clusterFor("prod", ep.URL, oldCA, newCA)), nil, nil); err != nil {
		t.Fatalf("import: %v\n%s", err, s.errOut.String())
	}
	if err := s.command(NewCmdUse, "prod"); err != nil {
		t.Fatalf("use: %v\n%s", err, s.errOut.String())
	}
	if strings.Contains(s.errOut.String(), "rotation") {
		t.Errorf("first use mentions a rotation:\n%s", s.errOut.String())
	}
	ep.serve(t, newCA)
	if err := s.command(NewCmdUse, "prod"); err != nil {
		t.Fatalf("use after the rotation: %v\n%s", err, s.errOut.String())
	}
	if msgs := s.errOut.String(); !strings.Contains(msgs, "(a CA rotation)") || strings.Contains(msgs, "not a CA rotation") {
		t.Errorf("use did not call the pinned change a rotation:\n%s", msgs)
	}
	if !bytes.Equal(s.kubeconfigCA(t, "prod"), newCA.certPEM) {
		t.Error("kubeconfig does not trust the new chain")
	}
}

// TestImportEmptyProfile: a profile with no clusters is a clear error with
// a non-zero exit, not a panic, and writes nothing.
func TestImportEmptyProfile(t *testing.T) {
	for name, doc := range map[string]string{
		"empty list": "apiVersion: securekapi.io/v1alpha1\nkind: AccessProfile\nclusters: []\n",
		"no list":    "apiVersion: securekapi.io/v1alpha1\nkind: AccessProfile\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := newUserSession(t)
			path := filepath.Join(t.TempDir(), "empty.yaml")
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			err := s.command(NewCmdImport, path)
			if err == nil || !strings.Contains(err.Error(), "holds no clusters") {
				t.Fatalf("err = %v, want a no-clusters error", err)
			}
			if _, err := os.Stat(s.registry()); !os.IsNotExist(err) {
				t.Errorf("an empty import wrote the registry (%v)", err)
			}
		})
	}
}

// TestImportRedirects: the profile server answers with redirects. One to
// plain http, or to another origin (even a trusted https one: an open
// redirect on the owner's site must not hand the import to an attacker),
// is refused before anything is fetched from there. One within the same
// https origin is followed.
func TestImportRedirects(t *testing.T) {
	good := writeProfileBytes(t, clusterFor("prod", "https://kapi.example.com", newPair(t, nil, "root")))
	evil := writeProfileBytes(t, clusterFor("evil", "https://kapi.attacker.example", newPair(t, nil, "evil")))
	var attackerHits atomic.Int32
	attacker := func(w http.ResponseWriter, _ *http.Request) { attackerHits.Add(1); w.Write(evil) }
	plain := httptest.NewServer(http.HandlerFunc(attacker))
	t.Cleanup(plain.Close)
	other := httptest.NewTLSServer(http.HandlerFunc(attacker)) // same test certificate: trusted
	t.Cleanup(other.Close)
	owner := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/profile.yaml":
			w.Write(good)
		case "/moved":
			http.Redirect(w, r, "/profile.yaml", http.StatusMovedPermanently)
		case "/to-http":
			http.Redirect(w, r, plain.URL+"/profile.yaml", http.StatusFound)
		case "/to-other-host":
			http.Redirect(w, r, other.URL+"/profile.yaml", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	t.Cleanup(owner.Close)

	for _, path := range []string{"/to-http", "/to-other-host"} {
		t.Run("refuses "+path, func(t *testing.T) {
			s := newUserSession(t)
			err := s.importProfile(t, owner.URL+path, owner.Client(), func(o *ImportOptions) { o.NoCheck = true })
			if err == nil || !strings.Contains(err.Error(), "refusing the redirect") {
				t.Fatalf("err = %v, want the redirect refused\n%s", err, s.errOut.String())
			}
			if n := attackerHits.Load(); n != 0 {
				t.Fatalf("the redirect target was fetched %d times", n)
			}
			if _, err := os.Stat(s.registry()); !os.IsNotExist(err) {
				t.Errorf("a refused import wrote the registry (%v)", err)
			}
		})
	}
	t.Run("follows a same-origin redirect", func(t *testing.T) {
		s := newUserSession(t)
		if err := s.importProfile(t, owner.URL+"/moved", owner.Client(), func(o *ImportOptions) { o.NoCheck = true }); err != nil {
			t.Fatalf("import: %v", err)
		}
		reg, err := (&profile.Registry{Path: s.registry()}).Load()
		if err != nil || strings.Join(reg.Names(), ",") != "prod" {
			t.Fatalf("registry: %v %v", reg, err)
		}
	})
	t.Run("stops a redirect loop", func(t *testing.T) {
		s := newUserSession(t)
		err := s.importProfile(t, owner.URL+"/loop", owner.Client(), func(o *ImportOptions) { o.NoCheck = true })
		if err == nil || !strings.Contains(err.Error(), "redirects") {
			t.Fatalf("err = %v", err)
		}
	})
}

func writeProfileBytes(t *testing.T, clusters ...profile.Cluster) []byte {
	return readFile(t, writeProfile(t, clusters...))
}

// TestReservedExtraParamsAreRefusedEverywhere: a rogue profile (or flag)
// whose extra parameters would override securekapi's own authorization
// request parameters is refused at import, add, login and credential;
// allowed extra parameters are shown when imported.
func TestReservedExtraParamsAreRefusedEverywhere(t *testing.T) {
	s := newUserSession(t)
	rogue := clusterFor("prod", "https://kapi.example.com", newPair(t, nil, "root"))
	rogue.OIDC.ExtraParams = map[string]string{"redirect_uri": "https://attacker.example/cb", "audience": "kube"}
	err := s.importProfile(t, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.NoCheck = true })
	if err == nil || !strings.Contains(err.Error(), `"redirect_uri" is reserved`) {
		t.Fatalf("import: err = %v, want redirect_uri refused", err)
	}
	if _, err := os.Stat(s.registry()); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote the registry (%v)", err)
	}

	rogue.OIDC.ExtraParams = map[string]string{"audience": "kube", "prompt": "consent"}
	if err := s.importProfile(t, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.NoCheck = true }); err != nil {
		t.Fatalf("import with allowed extra parameters: %v", err)
	}
	if !strings.Contains(s.errOut.String(), "prod: sends extra authorization parameters to its issuer: audience=kube, prompt=consent") {
		t.Errorf("import did not show the extra parameters:\n%s", s.errOut.String())
	}

	flag := "--oidc-auth-request-extra-params=response_type=token"
	oidcFlags := []string{"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl", flag}
	for name, run := range map[string]func() error{
		"add": func() error {
			return s.command(NewCmdAdd, append([]string{"other", "--server", "https://kapi.example.com", "--pin", pinOf(newPair(t, nil, "r"))}, oidcFlags...)...)
		},
		"login": func() error { return s.command(NewCmdLogin, oidcFlags...) },
		"credential": func() error {
			s.env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
			return s.command(NewCmdCredential, oidcFlags...)
		},
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), `"response_type" is reserved`) {
			t.Errorf("%s %s: err = %v, want response_type refused", name, flag, err)
		}
	}
}
