package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/profile"
)

// runWithEnv executes a command with isolated streams and the given
// environment (SECUREKAPI_CONFIG and friends), nothing from the process's.
func runWithEnv(t *testing.T, env map[string]string, newCmd func(*GlobalOptions) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	return runWithEnvContext(t, context.Background(), env, newCmd, args...)
}

// runWithEnvContext is runWithEnv with the command's context.
func runWithEnvContext(t *testing.T, ctx context.Context, env map[string]string, newCmd func(*GlobalOptions) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &GlobalOptions{
		IOStreams:  genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Kubeconfig: env["KUBECONFIG"],
		Getenv:     func(k string) string { return env[k] },
		Now:        time.Now,
	}
	c := newCmd(g)
	c.SetArgs(args)
	c.SetOut(&errOut)
	c.SetErr(&errOut)
	c.SilenceUsage, c.SilenceErrors = true, true
	err := c.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// fakeIssuer serves an OIDC discovery document listing scopes, over TLS;
// it returns the issuer URL and a file holding the CA that trusts it.
func fakeIssuer(t *testing.T, scopes ...string) (url, caFile string) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		doc := map[string]any{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/keys", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		}
		if scopes != nil {
			doc["scopes_supported"] = scopes
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

// addFixture is an endpoint, its root CA in a file, an issuer and an empty
// registry, ready for `add`.
type addFixture struct {
	env                  map[string]string
	server, caFile       string
	issuer, issuerCAFile string
	registry             string
}

func newAddFixture(t *testing.T, scopes ...string) *addFixture {
	url, root, _ := endpoint(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(caFile, root.certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	issuer, issuerCA := fakeIssuer(t, scopes...)
	reg := filepath.Join(dir, "config", "clusters.yaml")
	return &addFixture{env: map[string]string{"SECUREKAPI_CONFIG": reg}, server: url, caFile: caFile,
		issuer: issuer, issuerCAFile: issuerCA, registry: reg}
}

func (f *addFixture) args(name string, extra ...string) []string {
	return append([]string{name, "--server", f.server, "--tls-server-name", testHost, "--ca-file", f.caFile,
		"--oidc-issuer-url", f.issuer, "--oidc-client-id", "kubectl", "--oidc-ca-file", f.issuerCAFile}, extra...)
}

func (f *addFixture) registered(t *testing.T, name string) profile.Cluster {
	t.Helper()
	reg, err := (&profile.Registry{Path: f.registry}).Load()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := reg.Find(name)
	if !ok {
		t.Fatalf("%s is not registered (%v)", name, reg.Names())
	}
	return *c
}

// TestAddRequestsTheIdentityScopesTheIssuerOffers: the README's `add`
// without --oidc-extra-scope asks for email and groups when the issuer
// offers them, and says so, so an API server mapping users by email sees
// one.
func TestAddRequestsTheIdentityScopesTheIssuerOffers(t *testing.T) {
	f := newAddFixture(t, "openid", "email", "groups", "profile", "offline_access")
	_, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-a")...)
	if err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	if got := f.registered(t, "cluster-a").OIDC.ExtraScopes; strings.Join(got, ",") != "email,groups" {
		t.Errorf("extra scopes = %v, want email,groups", got)
	}
	if !strings.Contains(errOut, "requesting email and groups") {
		t.Errorf("add did not say which scopes it chose:\n%s", errOut)
	}
	// How the chain was trusted is said, never an empty "(pin )".
	if strings.Contains(errOut, "(pin )") || !strings.Contains(errOut, "trusted by its CA bundle") {
		t.Errorf("verification line:\n%s", errOut)
	}

	t.Run("scopes the user gave are kept", func(t *testing.T) {
		_, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-b", "--oidc-extra-scope", "profile")...)
		if err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if got := f.registered(t, "cluster-b").OIDC.ExtraScopes; strings.Join(got, ",") != "profile" {
			t.Errorf("extra scopes = %v, want profile", got)
		}
	})
	t.Run("only what the issuer offers", func(t *testing.T) {
		f := newAddFixture(t, "openid", "email")
		if _, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("c")...); err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if got := f.registered(t, "c").OIDC.ExtraScopes; strings.Join(got, ",") != "email" {
			t.Errorf("extra scopes = %v, want email", got)
		}
	})
	t.Run("an issuer that lists no scopes", func(t *testing.T) {
		f := newAddFixture(t)
		_, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("c")...)
		if err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if got := f.registered(t, "c").OIDC.ExtraScopes; len(got) != 0 || !strings.Contains(errOut, "--oidc-extra-scope email") {
			t.Errorf("extra scopes = %v; stderr:\n%s", got, errOut)
		}
	})
}

// TestAddStoresTheOIDCCAFileAbsolute: the exec plugin reads the path from
// whatever directory kubectl runs in.
func TestAddStoresTheOIDCCAFileAbsolute(t *testing.T) {
	f := newAddFixture(t, "email")
	t.Chdir(filepath.Dir(f.issuerCAFile))
	args := f.args("cluster-a")
	args[len(args)-1] = filepath.Base(f.issuerCAFile)
	if _, errOut, err := runWithEnv(t, f.env, NewCmdAdd, args...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	if got := f.registered(t, "cluster-a").OIDC.CAFile; got != f.issuerCAFile {
		t.Errorf("oidc.caFile = %q, want the absolute %q", got, f.issuerCAFile)
	}
}

// TestAddNamesTheFlagAtFault: bad values fail before any network call,
// with an error naming the flag the user typed, and nothing is saved.
func TestAddNamesTheFlagAtFault(t *testing.T) {
	f := newAddFixture(t, "email")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	binary := filepath.Join(dir, "binary.pem")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(binary, []byte{0x30, 0x82, 0x01, 0x0a, 0x00, 0xff}, 0o644)
	without := func(flag string) []string {
		args := f.args("c")
		for i, a := range args {
			if a == flag {
				return append(args[:i:i], args[i+2:]...)
			}
		}
		t.Fatalf("no %s in %v", flag, args)
		return nil
	}
	set := func(flag, value string) []string {
		args := f.args("c")
		for i, a := range args {
			if a == flag {
				args[i+1] = value
			}
		}
		return args
	}
	cases := []struct {
		args []string
		want string
	}{
		{without("--oidc-client-id"), "--oidc-client-id is required"},
		{without("--oidc-issuer-url"), "--oidc-issuer-url is required"},
		{without("--server"), "--server is required"},
		{f.args(strings.Repeat("a", 5000)), "5000 characters long; the limit is 253"},
		{set("--server", "https://host/some/path?q=1#f"), `--server "https://host/some/path?q=1#f": must not have a query`},
		{set("--server", "https://host/some/path"), "--server \"https://host/some/path\": has a path"},
		{set("--oidc-issuer-url", "https://127.0.0.1:99999/dex"), "--oidc-issuer-url \"https://127.0.0.1:99999/dex\": port 99999 is not a TCP port"},
		{f.args("c", "--tunnel-gateway", "gw.example.com:99999", "--tunnel-client-cert", "a", "--tunnel-client-key", "b"), "--tunnel-gateway \"gw.example.com:99999\": port 99999"},
		{f.args("c", "-n", "bad ns!"), `--namespace "bad ns!": must be a namespace name`},
		{f.args("c", "--oidc-extra-scope", "email groups"), "--oidc-extra-scope: \"email groups\" contains ' '"},
		{f.args("c", "--tunnel-client-cert", "me.crt"), "--tunnel-client-cert needs --tunnel-gateway"},
		{set("--oidc-ca-file", filepath.Join(dir, "missing.pem")), "--oidc-ca-file: open"},
		{set("--oidc-ca-file", empty), "--oidc-ca-file " + empty + ": no PEM certificates"},
		{set("--oidc-ca-file", binary), "--oidc-ca-file " + binary + ": no PEM certificates"},
		{set("--ca-file", binary), "--ca-file " + binary + ": no PEM certificates"},
	}
	for _, c := range cases {
		_, _, err := runWithEnv(t, f.env, NewCmdAdd, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("add %q:\n  err = %v\n  want it to contain %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "oidc.") {
			t.Errorf("add %q: error names a profile field, not a flag: %v", c.args, err)
		}
	}
	if _, err := os.Stat(f.registry); !os.IsNotExist(err) {
		t.Errorf("a refused add wrote the registry (%v)", err)
	}
}

// TestAddRefusesToReplaceARegisteredCluster: `add` over a registered name
// with other settings changes nothing and shows the change, as import does;
// --replace makes the change and says what it was.
func TestAddRefusesToReplaceARegisteredCluster(t *testing.T) {
	f := newAddFixture(t)
	if _, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-a", "--namespace", "team-a")...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	before, err := os.ReadFile(f.registry)
	if err != nil {
		t.Fatal(err)
	}

	_, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-a", "--namespace", "team-b")...)
	if err == nil {
		t.Fatalf("add over a registered name with other settings succeeded:\n%s", errOut)
	}
	for _, want := range []string{"already registered", "namespace: team-a -> team-b", "--replace", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if after, _ := os.ReadFile(f.registry); !bytes.Equal(before, after) {
		t.Errorf("the refused add changed the registry:\n%s", after)
	}

	t.Run("the same settings again are fine", func(t *testing.T) {
		_, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-a", "--namespace", "team-a")...)
		if err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if !strings.Contains(errOut, "already registered with these settings") {
			t.Errorf("stderr:\n%s", errOut)
		}
	})
	t.Run("--replace replaces and shows the change", func(t *testing.T) {
		_, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-a", "--namespace", "team-b", "--replace")...)
		if err != nil {
			t.Fatalf("add --replace: %v\n%s", err, errOut)
		}
		if got := f.registered(t, "cluster-a").Namespace; got != "team-b" {
			t.Errorf("namespace = %q, want team-b", got)
		}
		if !strings.Contains(errOut, "namespace: team-a -> team-b") {
			t.Errorf("add --replace did not show the change:\n%s", errOut)
		}
	})
}
