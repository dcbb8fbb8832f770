package importcmd

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

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/credentialcmd"
	"github.com/securekapi/securekapi/pkg/cmd/login"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// importProfile runs import on source; client fetches https sources.
func importProfile(t *testing.T, s *cmdtest.UserSession, source string, client *http.Client, set func(*ImportOptions)) error {
	t.Helper()
	s.Out.Reset()
	s.ErrOut.Reset()
	o := &ImportOptions{IOStreams: s.F.IOStreams, HTTPClient: client, Now: s.F.Now, Tunnels: s.F.Tunnels, Approver: s.F.Approver,
		OpenRegistry: s.F.Registry, Source: source}
	if set != nil {
		set(o)
	}
	if err := o.Complete(nil, nil); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	return o.Run(t.Context())
}

// switchableEndpoint is a TLS endpoint whose certificate a test can swap
// behind the same URL, as a CA rotation (or an attacker) would.
type switchableEndpoint struct {
	URL  string
	Cert atomic.Pointer[tls.Certificate]
}

func newSwitchableEndpoint(t *testing.T, ca *testpki.Pair) *switchableEndpoint {
	t.Helper()
	e := &switchableEndpoint{}
	e.serve(t, ca)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return e.Cert.Load(), nil }}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// serve presents a fresh leaf for cmdtest.TestHost issued by ca.
func (e *switchableEndpoint) serve(t *testing.T, ca *testpki.Pair) {
	leaf := cmdtest.NewPair(t, ca, "leaf", cmdtest.TestHost).TLSCertificate(ca)
	e.Cert.Store(&leaf)
}

// clusterFor is a registration for the endpoint at url trusting cas.
func clusterFor(name, url string, cas ...*testpki.Pair) profile.Cluster {
	c := profile.Cluster{Name: name, Server: url, TLSServerName: cmdtest.TestHost,
		OIDC: profile.OIDC{IssuerURL: "https://login.example.com", ClientID: "kubectl"}}
	for _, ca := range cas {
		c.Pins = append(c.Pins, cmdtest.PinOf(ca))
		c.CertificateAuthorityData = append(c.CertificateAuthorityData, ca.CertPEM...)
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
	s := cmdtest.NewUserSession(t)
	legitCA, attackerCA := cmdtest.NewPair(t, nil, "Acme Root CA"), cmdtest.NewPair(t, nil, "Acme Root CA")
	legit := newSwitchableEndpoint(t, legitCA)
	rogueEndpoint := newSwitchableEndpoint(t, attackerCA)

	if err := importProfile(t, s, writeProfile(t, clusterFor("prod", legit.URL, legitCA)), nil, nil); err != nil {
		t.Fatalf("import: %v\n%s", err, s.ErrOut.String())
	}
	if err := s.Command(use.NewCmdUse, "prod"); err != nil {
		t.Fatalf("use: %v\n%s", err, s.ErrOut.String())
	}
	registered := readFile(t, s.Registry())

	rogue := clusterFor("prod", rogueEndpoint.URL, attackerCA)
	rogue.OIDC.IssuerURL = "https://login.attacker.example"
	tunneled := rogue
	tunneled.Tunnel = &profile.Tunnel{Gateway: "127.0.0.1:1", Mode: "connect", ClientCertFile: "/c.pem", ClientKeyFile: "/k.pem"}
	err := importProfile(t, s, writeProfile(t, tunneled), nil, nil)
	if err == nil {
		t.Fatalf("the rogue profile replaced the registered cluster:\n%s", s.ErrOut.String())
	}
	for _, want := range []string{
		"server: " + legit.URL + " -> " + rogueEndpoint.URL,
		"pins: " + cmdtest.PinOf(legitCA) + " -> " + cmdtest.PinOf(attackerCA),
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
	if !bytes.Equal(registered, readFile(t, s.Registry())) {
		t.Fatal("a refused import changed the registry")
	}

	t.Run("a dry run refuses too", func(t *testing.T) {
		err := importProfile(t, s, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.DryRun = true })
		if err == nil || !strings.Contains(err.Error(), "pins: ") {
			t.Fatalf("dry run: err = %v", err)
		}
	})

	t.Run("the same profile again is fine", func(t *testing.T) {
		if err := importProfile(t, s, writeProfile(t, clusterFor("prod", legit.URL, legitCA)), nil, nil); err != nil {
			t.Fatalf("re-import of unchanged settings: %v", err)
		}
		if !strings.Contains(s.ErrOut.String(), "prod: already registered with these settings") {
			t.Errorf("stderr:\n%s", s.ErrOut.String())
		}
	})

	t.Run("--replace applies and use does not call it a rotation", func(t *testing.T) {
		if err := s.Command(NewCmdImport, writeProfile(t, rogue), "--replace"); err != nil {
			t.Fatalf("import --replace: %v\n%s", err, s.ErrOut.String())
		}
		if !strings.Contains(s.ErrOut.String(), "replacing the registered settings") || !strings.Contains(s.ErrOut.String(), "pins: "+cmdtest.PinOf(legitCA)+" -> "+cmdtest.PinOf(attackerCA)) {
			t.Errorf("import --replace did not show the change:\n%s", s.ErrOut.String())
		}
		if err := s.Command(use.NewCmdUse, "prod"); err != nil {
			t.Fatalf("use: %v\n%s", err, s.ErrOut.String())
		}
		msgs := s.ErrOut.String()
		if strings.Contains(msgs, "rotation") && !strings.Contains(msgs, "not a CA rotation") {
			t.Errorf("use called replaced pins a CA rotation:\n%s", msgs)
		}
		if !strings.Contains(msgs, "trust settings changed since the last use") || !strings.Contains(msgs, "pins "+cmdtest.PinOf(legitCA)+" -> "+cmdtest.PinOf(attackerCA)) {
			t.Errorf("use did not say the trust settings changed:\n%s", msgs)
		}
		if !bytes.Equal(s.KubeconfigCA(t, "prod"), attackerCA.CertPEM) {
			t.Error("kubeconfig does not trust the replaced chain")
		}
	})
}

// TestUseCallsAPinnedChainChangeARotation: the endpoint switches to a CA
// the registration already pinned; that, and only that, is a rotation.
func TestUseCallsAPinnedChainChangeARotation(t *testing.T) {
	s := cmdtest.NewUserSession(t)
	oldCA, newCA := cmdtest.NewPair(t, nil, "Root 2025"), cmdtest.NewPair(t, nil, "Root 2027")
	ep := newSwitchableEndpoint(t, oldCA)
	if err := importProfile(t, s, writeProfile(t, clusterFor("prod", ep.URL, oldCA, newCA)), nil, nil); err != nil {
		t.Fatalf("import: %v\n%s", err, s.ErrOut.String())
	}
	if err := s.Command(use.NewCmdUse, "prod"); err != nil {
		t.Fatalf("use: %v\n%s", err, s.ErrOut.String())
	}
	if strings.Contains(s.ErrOut.String(), "rotation") {
		t.Errorf("first use mentions a rotation:\n%s", s.ErrOut.String())
	}
	ep.serve(t, newCA)
	if err := s.Command(use.NewCmdUse, "prod"); err != nil {
		t.Fatalf("use after the rotation: %v\n%s", err, s.ErrOut.String())
	}
	if msgs := s.ErrOut.String(); !strings.Contains(msgs, "(a CA rotation)") || strings.Contains(msgs, "not a CA rotation") {
		t.Errorf("use did not call the pinned change a rotation:\n%s", msgs)
	}
	if !bytes.Equal(s.KubeconfigCA(t, "prod"), newCA.CertPEM) {
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
			s := cmdtest.NewUserSession(t)
			path := filepath.Join(t.TempDir(), "empty.yaml")
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			err := s.Command(NewCmdImport, path)
			if err == nil || !strings.Contains(err.Error(), "holds no clusters") {
				t.Fatalf("err = %v, want a no-clusters error", err)
			}
			if _, err := os.Stat(s.Registry()); !os.IsNotExist(err) {
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
	good := writeProfileBytes(t, clusterFor("prod", "https://kapi.example.com", cmdtest.NewPair(t, nil, "root")))
	evil := writeProfileBytes(t, clusterFor("evil", "https://kapi.attacker.example", cmdtest.NewPair(t, nil, "evil")))
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
			s := cmdtest.NewUserSession(t)
			err := importProfile(t, s, owner.URL+path, owner.Client(), func(o *ImportOptions) { o.NoCheck = true })
			if err == nil || !strings.Contains(err.Error(), "refusing the redirect") {
				t.Fatalf("err = %v, want the redirect refused\n%s", err, s.ErrOut.String())
			}
			if n := attackerHits.Load(); n != 0 {
				t.Fatalf("the redirect target was fetched %d times", n)
			}
			if _, err := os.Stat(s.Registry()); !os.IsNotExist(err) {
				t.Errorf("a refused import wrote the registry (%v)", err)
			}
		})
	}
	t.Run("follows a same-origin redirect", func(t *testing.T) {
		s := cmdtest.NewUserSession(t)
		if err := importProfile(t, s, owner.URL+"/moved", owner.Client(), func(o *ImportOptions) { o.NoCheck = true }); err != nil {
			t.Fatalf("import: %v", err)
		}
		reg, err := (&profile.Registry{Path: s.Registry()}).Load()
		if err != nil || strings.Join(reg.Names(), ",") != "prod" {
			t.Fatalf("registry: %v %v", reg, err)
		}
	})
	t.Run("stops a redirect loop", func(t *testing.T) {
		s := cmdtest.NewUserSession(t)
		err := importProfile(t, s, owner.URL+"/loop", owner.Client(), func(o *ImportOptions) { o.NoCheck = true })
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
	s := cmdtest.NewUserSession(t)
	rogue := clusterFor("prod", "https://kapi.example.com", cmdtest.NewPair(t, nil, "root"))
	rogue.OIDC.ExtraParams = map[string]string{"redirect_uri": "https://attacker.example/cb", "audience": "kube"}
	err := importProfile(t, s, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.NoCheck = true })
	if err == nil || !strings.Contains(err.Error(), `"redirect_uri" is reserved`) {
		t.Fatalf("import: err = %v, want redirect_uri refused", err)
	}
	if _, err := os.Stat(s.Registry()); !os.IsNotExist(err) {
		t.Errorf("a refused import wrote the registry (%v)", err)
	}

	rogue.OIDC.ExtraParams = map[string]string{"audience": "kube", "prompt": "consent"}
	if err := importProfile(t, s, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.NoCheck = true }); err != nil {
		t.Fatalf("import with allowed extra parameters: %v", err)
	}
	if !strings.Contains(s.ErrOut.String(), "prod: sends extra authorization parameters to its issuer: audience=kube, prompt=consent") {
		t.Errorf("import did not show the extra parameters:\n%s", s.ErrOut.String())
	}

	flag := "--oidc-auth-request-extra-params=response_type=token"
	oidcFlags := []string{"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl", flag}
	for name, run := range map[string]func() error{
		"add": func() error {
			return s.Command(add.NewCmdAdd, append([]string{"other", "--server", "https://kapi.example.com", "--pin", cmdtest.PinOf(cmdtest.NewPair(t, nil, "r"))}, oidcFlags...)...)
		},
		"login": func() error { return s.Command(login.NewCmdLogin, oidcFlags...) },
		"credential": func() error {
			s.Env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
			return s.Command(credentialcmd.NewCmdCredential, oidcFlags...)
		},
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), `"response_type" is reserved`) {
			t.Errorf("%s %s: err = %v, want response_type refused", name, flag, err)
		}
	}
}

// forgedClientID tries to forge the single sign-on confirmation: it ends
// the issuer line and writes one naming the corporate issuer and client.
const forgedClientID = "evil\r\x1b[2K  issuer https://login.corp.example, client kubectl, scopes openid\n\x1b[1A"

// TestTextWithControlCharactersIsRefusedEverywhere: a profile, add's flags
// or an exec stanza holding a control character (a line break, an escape
// sequence, a bidi override) in an identifier is refused where it enters,
// with a message that shows it escaped, and nothing is registered.
func TestTextWithControlCharactersIsRefusedEverywhere(t *testing.T) {
	s := cmdtest.NewUserSession(t)
	noControl := func(what, text string) {
		t.Helper()
		if i := strings.IndexFunc(text, safetext.Unsafe); i >= 0 {
			t.Errorf("%s carries %q raw: %q", what, text[i:i+1], text)
		}
	}
	for field, spoil := range map[string]func(*profile.Cluster){
		"oidc.clientID":     func(c *profile.Cluster) { c.OIDC.ClientID = forgedClientID },
		"oidc.clientID ":    func(c *profile.Cluster) { c.OIDC.ClientID = "kube\u202ectl" },
		"oidc.issuerURL":    func(c *profile.Cluster) { c.OIDC.IssuerURL = "https://login.example.com/\x1b[2J" },
		"tlsServerName":     func(c *profile.Cluster) { c.TLSServerName = "kapi.internal\n" },
		"oidc.extraParams":  func(c *profile.Cluster) { c.OIDC.ExtraParams = map[string]string{"prompt\x1b[8m": "login"} },
		"oidc.extraParams ": func(c *profile.Cluster) { c.OIDC.ExtraParams = map[string]string{"prompt": "login\x07"} },
		"oidc.extraScopes":  func(c *profile.Cluster) { c.OIDC.ExtraScopes = []string{strings.Repeat("g", 300)} },
		"oidc.clientID  ":   func(c *profile.Cluster) { c.OIDC.ClientID = strings.Repeat("k", safetext.MaxClientID+1) },
	} {
		rogue := clusterFor("prod", "https://kapi.example.com", cmdtest.NewPair(t, nil, "root"))
		spoil(&rogue)
		err := importProfile(t, s, writeProfile(t, rogue), nil, func(o *ImportOptions) { o.NoCheck = true; o.Approve = true })
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(field)) {
			t.Errorf("import with a hostile %s: err = %v", field, err)
			continue
		}
		noControl("import's error", err.Error())
		noControl("import's messages", s.ErrOut.String())
		if _, err := os.Stat(s.Registry()); !os.IsNotExist(err) {
			t.Fatalf("a refused import wrote the registry (%v)", err)
		}
	}

	pin := cmdtest.PinOf(cmdtest.NewPair(t, nil, "r"))
	for flag, value := range map[string]string{
		"--oidc-client-id":  forgedClientID,
		"--tls-server-name": "kapi\x1b]8;;https://evil\x07",
		"--oidc-issuer-url": "https://login.example.com/\u0085",
	} {
		args := map[string]string{"--oidc-issuer-url": "https://login.example.com", "--oidc-client-id": "kubectl"}
		args[flag] = value
		argv := []string{"other", "--server", "https://kapi.example.com", "--pin", pin}
		for f, v := range args {
			argv = append(argv, f+"="+v)
		}
		err := s.Command(add.NewCmdAdd, argv...)
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("add %s=%q: err = %v", flag, value, err)
			continue
		}
		noControl("add's error", err.Error())
	}

	s.Env["KUBERNETES_EXEC_INFO"] = `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`
	for _, argv := range [][]string{
		{"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", forgedClientID},
		{"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl", "--cluster-name", "prod\x1b[31m"},
		{"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl", "--tls-server-name", "kapi\u202e"},
	} {
		err := s.Command(credentialcmd.NewCmdCredential, argv...)
		if err == nil || !strings.Contains(err.Error(), "holds the control character") {
			t.Errorf("credential %q: err = %v, want the control character refused", argv, err)
			continue
		}
		noControl("credential's error", err.Error())
	}
}
