// Package cmdtest holds the fixtures the command tests share: certificates
// (made by internal/testpki), TLS endpoints, a fake OIDC issuer, kubeconfig
// files and a way to run a command on in-memory streams. It imports no
// command package, so every command's tests can use it.
package cmdtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/profile"
)

// NewPair issues a server certificate for names, or a CA when there are
// no names, signed by parent (nil: self-signed).
func NewPair(t *testing.T, parent *testpki.Pair, cn string, names ...string) *testpki.Pair {
	t.Helper()
	return testpki.New(t, testpki.Spec{CN: cn, CA: len(names) == 0, Names: names, Issuer: parent})
}

// WriteKubeconfig writes a kubeconfig for server (trusting caPEM) with a token.
func WriteKubeconfig(t *testing.T, server string, caPEM []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: u
  user:
    token: admin-token
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`, server, base64.StdEncoding.EncodeToString(caPEM))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Run executes a command with isolated streams and environment.
func Run(t *testing.T, kubeconfig string, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := Factory(map[string]string{"HOME": t.TempDir()})
	g.Out, g.ErrOut, g.Kubeconfig = &out, &errOut, kubeconfig
	c := newCmd(g)
	c.SetArgs(args)
	c.SetOut(&errOut)
	c.SetErr(&errOut)
	c.SilenceUsage, c.SilenceErrors = true, true
	err := c.Execute()
	return out.String(), errOut.String(), err
}

// TestHost is the name the test endpoints' certificates carry.
const TestHost = "kapi.example.com"

// RunWithEnv executes a command with isolated streams and the given
// environment (SECUREKAPI_CONFIG and friends), nothing from the process's.
func RunWithEnv(t *testing.T, env map[string]string, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	return RunWithEnvContext(t, context.Background(), env, newCmd, args...)
}

// RunWithEnvContext is RunWithEnv with the command's context.
func RunWithEnvContext(t *testing.T, ctx context.Context, env map[string]string, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := Factory(env)
	g.Out, g.ErrOut, g.Kubeconfig = &out, &errOut, env["KUBECONFIG"]
	c := newCmd(g)
	c.SetArgs(args)
	c.SetOut(&errOut)
	c.SetErr(&errOut)
	c.SilenceUsage, c.SilenceErrors = true, true
	err := c.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// FakeIssuer serves an OIDC discovery document listing scopes, over TLS;
// it returns the issuer URL and a file holding the CA that trusts it.
func FakeIssuer(t *testing.T, scopes ...string) (url, caFile string) {
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
	caFile = testpki.WritePEM(t, "issuer-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	return srv.URL, caFile
}

// AddFixture is an endpoint, its root CA in a file, an issuer and an empty
// registry, ready for `add`.
type AddFixture struct {
	Env                  map[string]string
	Server, CAFile       string
	Issuer, IssuerCAFile string
	RegistryPath         string
}

// NewAddFixture serves an endpoint and an issuer offering scopes.
func NewAddFixture(t *testing.T, scopes ...string) *AddFixture {
	url, root, _ := Endpoint(t)
	caFile := testpki.WritePEM(t, "root.pem", root.CertPEM)
	issuer, issuerCA := FakeIssuer(t, scopes...)
	reg := filepath.Join(t.TempDir(), "config", "clusters.yaml")
	return &AddFixture{Env: map[string]string{"SECUREKAPI_CONFIG": reg}, Server: url, CAFile: caFile,
		Issuer: issuer, IssuerCAFile: issuerCA, RegistryPath: reg}
}

// Args are add's arguments for the fixture's cluster name.
func (f *AddFixture) Args(name string, extra ...string) []string {
	return append([]string{name, "--server", f.Server, "--tls-server-name", TestHost, "--ca-file", f.CAFile,
		"--oidc-issuer-url", f.Issuer, "--oidc-client-id", "kubectl", "--oidc-ca-file", f.IssuerCAFile}, extra...)
}

// Registered reads name's registration.
func (f *AddFixture) Registered(t *testing.T, name string) profile.Cluster {
	t.Helper()
	reg, err := (&profile.Registry{Path: f.RegistryPath}).Load()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := reg.Find(name)
	if !ok {
		t.Fatalf("%s is not registered (%v)", name, reg.Names())
	}
	return *c
}

// Endpoint serves leaf (for TestHost), intermediate and root, and returns
// its URL and the root.
func Endpoint(t *testing.T) (url string, root, intermediate *testpki.Pair) {
	t.Helper()
	root = NewPair(t, nil, "root")
	intermediate = NewPair(t, root, "intermediate")
	leaf := NewPair(t, intermediate, "leaf", TestHost)
	return testpki.NewTLSServer(t, http.NotFoundHandler(), leaf, intermediate).URL, root, intermediate
}

// Usable registers cluster-a and gives a kubeconfig holding another
// context, the state `use` starts from.
// newAdd is add.NewCmdAdd (passed in: this package imports no command).
func Usable(t *testing.T, newAdd func(*cmdutil.Factory) *cobra.Command, mode os.FileMode) (*AddFixture, string, []byte) {
	t.Helper()
	f := NewAddFixture(t, "email")
	if _, errOut, err := RunWithEnv(t, f.Env, newAdd, f.Args("cluster-a")...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	kubeconfig := WriteKubeconfig(t, "https://other.example.com", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	if err := os.Chmod(kubeconfig, mode); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(kubeconfig)
	f.Env["KUBECONFIG"] = kubeconfig
	return f, kubeconfig, before
}

// AccessOf reads the OIDC settings kubeconfig's exec stanza holds for a
// context, as the credential command would.
func AccessOf(t *testing.T, kubeconfig, contextName string) *cmdutil.AccessFlags {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	args, err := cmdutil.SecurekapiExecArgs(cfg, contextName)
	if err != nil {
		t.Fatal(err)
	}
	a := &cmdutil.AccessFlags{}
	fs := pflag.NewFlagSet("exec", pflag.ContinueOnError)
	a.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return a
}

// UserSession is one user's machine: a registry, a kubeconfig and a home,
// all in a temporary directory, with in-memory streams.
type UserSession struct {
	Dir         string
	Env         map[string]string
	Out, ErrOut bytes.Buffer
	F           *cmdutil.Factory
}

// NewUserSession is a fresh session in a temporary directory.
func NewUserSession(t *testing.T) *UserSession {
	t.Helper()
	s := &UserSession{Dir: t.TempDir()}
	s.Env = map[string]string{
		"HOME":              s.Dir,
		"KUBECONFIG":        filepath.Join(s.Dir, "kubeconfig"),
		"SECUREKAPI_CONFIG": filepath.Join(s.Dir, "config", "clusters.yaml"),
	}
	s.F = Factory(nil)
	s.F.Out, s.F.ErrOut = &s.Out, &s.ErrOut
	s.F.Getenv = func(k string) string { return s.Env[k] } // s.Env as it is when read
	s.F.Environ = Environ(s.Env)
	return s
}

// Registry is the session's registry path.
func (s *UserSession) Registry() string { return s.F.Getenv("SECUREKAPI_CONFIG") }

// Command runs a command as the cobra tree would, on this session.
func (s *UserSession) Command(newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) error {
	s.Out.Reset()
	s.ErrOut.Reset()
	c := newCmd(s.F)
	c.SetArgs(args)
	c.SetOut(&s.ErrOut)
	c.SetErr(&s.ErrOut)
	c.SilenceUsage, c.SilenceErrors = true, true
	return c.Execute()
}

// KubeconfigCA is the CA data kubeconfig holds for cluster.
func (s *UserSession) KubeconfigCA(t *testing.T, cluster string) []byte {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(s.F.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cfg.Clusters[cluster]
	if !ok {
		t.Fatalf("kubeconfig has no cluster %q", cluster)
	}
	return c.CertificateAuthorityData
}

// PinOf is p's SPKI pin.
func PinOf(p *testpki.Pair) string { return string(p.Pin()) }

// Factory is NewFactory's Factory on in-memory streams (no terminal) whose
// environment is env, nothing from the process's.
func Factory(env map[string]string) *cmdutil.Factory {
	f := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	f.Getenv = func(k string) string { return env[k] }
	f.Environ = Environ(env)
	return f
}

// Environ is env as the list a child process inherits, read when asked,
// so a child of a command under test sees env and nothing of the test's.
func Environ(env map[string]string) func() []string {
	return func() []string {
		list := make([]string, 0, len(env))
		for k, v := range env {
			list = append(list, k+"="+v)
		}
		slices.Sort(list)
		return list
	}
}

// Execute runs cmd on args as the cobra tree would, quietly.
func Execute(cmd *cobra.Command, args ...string) error {
	var discard bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&discard)
	cmd.SetErr(&discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.Execute()
}
