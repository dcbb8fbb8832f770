package cmd

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// TestStanzaCannotRedirectTheRefresh is issue #23's attack 3. The user
// approved the cluster with the issuer trusted through their own CA bundle.
// The attacker's stanza keeps issuer, client, server and pins, but trusts
// the issuer through a CA of the attacker's (a plain file, or the reader's
// own environment, /proc/self/environ, with the CA in the stanza's env), and
// forces a refresh; whoever holds that CA answers at the issuer's address
// (here a recording server standing where a TLS-terminating HTTPS_PROXY
// would). No refresh request may reach it.
func TestStanzaCannotRedirectTheRefresh(t *testing.T) {
	var refreshes atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			body, _ := io.ReadAll(r.Body)
			if strings.Contains(string(body), "refresh_token") {
				refreshes.Add(1)
			}
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys"}`, srv.URL)
	}))
	t.Cleanup(srv.Close)
	attackerPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	dir := t.TempDir()
	writeFile := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	usersCA := writeFile("users-issuer-ca.pem", cmdtest.NewPair(t, nil, "the real issuer's CA").CertPEM)
	attackerCA := writeFile("attacker-ca.pem", attackerPEM)
	// What the stanza's env does to /proc/self/environ.
	t.Setenv("SECUREKAPI_ATTACKER_PEM", string(attackerPEM))

	ca := cmdtest.NewPair(t, nil, "cluster CA")
	const apiServer = "https://kapi.example.com"
	refreshToken := "Cg" + strings.Repeat("r3fr3sh", 8)
	cacheDir := filepath.Join(dir, "cache")
	users := &access.Flags{Issuer: srv.URL, ClientID: "kubectl", OIDCCAFile: usersCA, Server: apiServer, Pins: []string{cmdtest.PinOf(ca)}}
	key := users.Key()
	store, err := tokenstore.NewFileStore(filepath.Join(cacheDir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := users.Binding()
	if err != nil {
		t.Fatal(err)
	}
	approve(t, cacheDir, key, b)

	execInfo := fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":%q,"certificate-authority-data":%q}}}`,
		apiServer, base64.StdEncoding.EncodeToString(ca.CertPEM))
	env := map[string]string{"HOME": dir, "SECUREKAPI_CACHE_DIR": cacheDir, "KUBERNETES_EXEC_INFO": execInfo}
	for name, oidcCA := range map[string]string{"an attacker's CA file": attackerCA, "/proc/self/environ": "/proc/self/environ"} {
		t.Run(name, func(t *testing.T) {
			if err := store.Put(key, &tokenstore.TokenSet{IDToken: expiredIDToken(srv.URL), RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			g.Getenv = func(k string) string { return env[k] }
			g.Caller = func() *callerconfig.Caller { return callerconfig.Own(g.Getenv) }
			code := execute(t.Context(), g, []string{"credential", "--token-cache", "file", "--expiry-margin", "24h",
				"--oidc-issuer-url", srv.URL, "--oidc-client-id", "kubectl", "--oidc-ca-file", oidcCA,
				"--server", apiServer, "--pin", cmdtest.PinOf(ca)})
			if n := refreshes.Load(); n > 0 {
				t.Fatalf("the attacker's issuer received %d refresh requests", n)
			}
			if code == 0 || out.Len() > 0 {
				t.Fatalf("credential released something: exit %d, stdout %q", code, out.String())
			}
			t.Log(errOut.String())
		})
	}
	// The control: the user's own stanza reaches the issuer it trusts
	// (which, being the attacker's server here, fails TLS: no refresh
	// either, but for the right reason), and with the attacker's CA
	// approved the refresh would go out: the refusal above was the approval.
	t.Run("control: approved, the refresh goes out", func(t *testing.T) {
		if err := store.Put(key, &tokenstore.TokenSet{IDToken: expiredIDToken(srv.URL), RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		approved := *users
		approved.OIDCCAFile = attackerCA
		ab, err := approved.Binding()
		if err != nil {
			t.Fatal(err)
		}
		approve(t, cacheDir, key, ab)
		var out, errOut bytes.Buffer
		g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		g.Getenv = func(k string) string { return env[k] }
		g.Caller = func() *callerconfig.Caller { return callerconfig.Own(g.Getenv) }
		execute(t.Context(), g, []string{"credential", "--token-cache", "file", "--expiry-margin", "24h",
			"--oidc-issuer-url", srv.URL, "--oidc-client-id", "kubectl", "--oidc-ca-file", attackerCA,
			"--server", apiServer, "--pin", cmdtest.PinOf(ca)})
		if refreshes.Load() == 0 {
			t.Fatalf("an approved issuer trust sent no refresh:\n%s", errOut.String())
		}
	})
}
