package execplugin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

const (
	issuer = "https://dex.example.com"
	client = "kubectl"
	server = "https://kapi.example.com:6443"
)

var now = time.Unix(1_700_000_000, 0)

// ca is a CA on the tests' clock, as PEM, and its pin.
func ca(t testing.TB) (pemBytes []byte, pin string) {
	t.Helper()
	c := testpki.New(t, testpki.Spec{CN: "Enterprise CA", CA: true, Now: now})
	return c.CertPEM, string(c.Pin())
}

func idToken(iss, aud string, exp time.Time) string {
	return testjwt.Unsigned(map[string]any{"iss": iss, "aud": aud, "sub": "alice", "exp": exp.Unix()})
}

type harness struct {
	dir, pin string
	caPEM    []byte
	store    *tokenstore.FileStore
	key      tokenstore.Key
}

func newHarness(t testing.TB) *harness {
	dir := t.TempDir()
	caPEM, pin := ca(t)
	store, err := tokenstore.NewFileStore(filepath.Join(dir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{dir: dir, pin: pin, caPEM: caPEM, store: store,
		key: token.Key(issuer, client, []string{"email"}, nil)}
	h.approve(t, server, pin)
	return h
}

// approve records the user's approval of (srv, pin) for the harness's
// login, as `login NAME` on a terminal would.
func (h *harness) approve(t testing.TB, srv, pin string) {
	t.Helper()
	b := binding.Binding{Server: srv, Pins: []pinning.Pin{pinning.Pin(pin)}, IssuerTrust: h.issuerTrust(t)}
	target := b.ApprovalTarget()
	store := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(h.dir)}
	if err := store.Update(func(f *binding.ApprovalsFile) error {
		f.Approve(binding.ApprovalFor(h.key.ID(), target))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// issuerTrust is the issuer trust the harness's stanza names: the system
// roots, with SSL_CERT_FILE where the environment sets it.
func (h *harness) issuerTrust(t testing.TB) string {
	t.Helper()
	trust, err := (&access.Flags{}).IssuerTrust()
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

func (h *harness) args(extra ...string) []string {
	return append([]string{"credential", "--cluster-name", "a", "--oidc-issuer-url", issuer, "--oidc-client-id", client,
		"--oidc-extra-scope", "email", "--server", server, "--pin", h.pin, "--token-cache", "file", "--cache-dir", h.dir}, extra...)
}

func (h *harness) execInfo(serverURL string, caPEM []byte) string {
	return fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false,"cluster":{"server":%q,"certificate-authority-data":%q}}}`,
		serverURL, base64.StdEncoding.EncodeToString(caPEM))
}

func (h *harness) answer(args []string, info string) (bool, string, string, error) {
	var out, errOut bytes.Buffer
	ok, err := Answer(Process{Args: args, Stdout: &out, Stderr: &errOut, Now: func() time.Time { return now },
		Getenv: func(name string) string {
			if name == "KUBERNETES_EXEC_INFO" {
				return info
			}
			return ""
		}})
	return ok, out.String(), errOut.String(), err
}

func (h *harness) put(t testing.TB, token string) {
	t.Helper()
	if err := h.store.Put(h.key, &tokenstore.TokenSet{IDToken: token, RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
}

func TestAnswersAUsableCachedToken(t *testing.T) {
	h := newHarness(t)
	tok := idToken(issuer, client, now.Add(10*time.Minute))
	h.put(t, tok)
	ok, out, errOut, err := h.answer(h.args(), h.execInfo(server, h.caPEM))
	if !ok || err != nil || errOut != "" {
		t.Fatalf("Answer = %v, %v, stderr %q", ok, err, errOut)
	}
	var ec struct {
		APIVersion string `json:"apiVersion"`
		Status     struct {
			Token               string `json:"token"`
			ExpirationTimestamp string `json:"expirationTimestamp"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &ec); err != nil || ec.Status.Token != tok || ec.APIVersion != "client.authentication.k8s.io/v1" {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if want := now.Add(9 * time.Minute).UTC().Format(time.RFC3339); ec.Status.ExpirationTimestamp != want {
		t.Errorf("expiry %q, want the margin before the token's: %q", ec.Status.ExpirationTimestamp, want)
	}
}

// TestHandsOverEverythingElse: in every case below the full CLI must do
// the work (refresh, login, delete, explain); the fast path writes nothing
// to stdout, and above all never a token.
func TestHandsOverEverythingElse(t *testing.T) {
	usable := idToken(issuer, client, now.Add(10*time.Minute))
	attackerPEM, _ := ca(t)
	for name, tc := range map[string]struct {
		token string // cached; "" for none
		args  func(h *harness) []string
		info  func(h *harness) string
	}{
		"no entry":                 {token: ""},
		"expired":                  {token: idToken(issuer, client, now.Add(-time.Minute))},
		"inside the expiry margin": {token: idToken(issuer, client, now.Add(30*time.Second))},
		"inside a custom margin": {token: usable, args: func(h *harness) []string {
			return h.args("--expiry-margin", "11m")
		}},
		"another issuer's token": {token: idToken("https://evil.example.com", client, now.Add(time.Hour))},
		"another client's token": {token: idToken(issuer, "other", now.Add(time.Hour))},
		"garbage token":          {token: "not-a-jwt"},
		"another subcommand":     {token: usable, args: func(h *harness) []string { return append([]string{"login"}, h.args()[1:]...) }},
		"verbose":                {token: usable, args: func(h *harness) []string { return h.args("-v", "5") }},
		"help":                   {token: usable, args: func(h *harness) []string { return h.args("--help") }},
		"unknown flag":           {token: usable, args: func(h *harness) []string { return h.args("--kubeconfig", "/x") }},
		"stray argument":         {token: usable, args: func(h *harness) []string { return h.args("extra") }},
		"bad pin":                {token: usable, args: func(h *harness) []string { return h.args("--pin", "sha256:zz") }},
		"http issuer":            {token: usable, args: func(h *harness) []string { return h.args("--oidc-issuer-url", "http://dex") }},
		"bad grant":              {token: usable, args: func(h *harness) []string { return h.args("--grant", "password") }},
		"bad store":              {token: usable, args: func(h *harness) []string { return h.args("--token-cache", "floppy") }},
		"a browser command":      {token: usable, args: func(h *harness) []string { return h.args("--browser-command", "sh -c id") }},
		"no exec info":           {token: usable, info: func(*harness) string { return "" }},
		"exec info not JSON":     {token: usable, info: func(*harness) string { return "{" }},
		"unknown apiVersion": {token: usable, info: func(*harness) string {
			return `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v2"}`
		}},
		"no cluster info": {token: usable, info: func(*harness) string {
			return `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{}}`
		}},
		"binding: another server": {token: usable, info: func(h *harness) string { return h.execInfo("https://evil.example.com", h.caPEM) }},
		"binding: another CA":     {token: usable, info: func(h *harness) string { return h.execInfo(server, attackerPEM) }},
		"binding: no CA":          {token: usable, info: func(h *harness) string { return h.execInfo(server, nil) }},
		"binding: insecure": {token: usable, info: func(h *harness) string {
			return strings.Replace(h.execInfo(server, h.caPEM), `"server"`, `"insecure-skip-tls-verify":true,"server"`, 1)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			if tc.token != "" {
				h.put(t, tc.token)
			}
			args, info := h.args(), h.execInfo(server, h.caPEM)
			if tc.args != nil {
				args = tc.args(h)
			}
			if tc.info != nil {
				info = tc.info(h)
			}
			ok, out, _, err := h.answer(args, info)
			if ok || err != nil || out != "" {
				t.Fatalf("Answer = %v, %v, stdout %q; want a hand-over with nothing written", ok, err, out)
			}
		})
	}
}

// TestCorruptEntryIsLeftForTheFullCLI: the full CLI deletes it (and logs
// that it did), so the fast path must not read past it or remove it.
func TestCorruptEntryIsLeftForTheFullCLI(t *testing.T) {
	h := newHarness(t)
	h.put(t, idToken(issuer, client, now.Add(10*time.Minute)))
	files, _ := filepath.Glob(filepath.Join(h.dir, "tokens", "*"))
	if len(files) != 1 {
		t.Fatalf("token files %q", files)
	}
	if err := os.WriteFile(files[0], []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, out, _, err := h.answer(h.args(), h.execInfo(server, h.caPEM)); ok || err != nil || out != "" {
		t.Fatalf("Answer = %v, %v, %q on a corrupt entry", ok, err, out)
	}
	if _, err := os.Stat(files[0]); err != nil {
		t.Errorf("the fast path removed the corrupt entry: %v", err)
	}
}

// TestAWriteFailureIsNotHandedOver: the full CLI would write a second
// ExecCredential after part of the first.
func TestAWriteFailureIsNotHandedOver(t *testing.T) {
	h := newHarness(t)
	h.put(t, idToken(issuer, client, now.Add(10*time.Minute)))
	ok, err := Answer(Process{Args: h.args(), Stdout: failingWriter{}, Stderr: &bytes.Buffer{}, Now: func() time.Time { return now },
		Getenv: func(name string) string {
			if name == "KUBERNETES_EXEC_INFO" {
				return h.execInfo(server, h.caPEM)
			}
			return ""
		}})
	if !ok || err == nil || strings.Contains(err.Error(), "e30.") {
		t.Fatalf("Answer = %v, %v; want answered with an error that quotes no token", ok, err)
	}
}

// TestUnapprovedClusterIsHandedOver: a cluster that names our issuer and
// client, with its own server and pin, and that kubectl really talks to (the
// binding holds), gets no cached token from the fast path: the user never
// approved it for this login. The full CLI then refuses with the command
// that approves it.
func TestUnapprovedClusterIsHandedOver(t *testing.T) {
	h := newHarness(t)
	h.put(t, idToken(issuer, client, now.Add(10*time.Minute)))
	rogueCA, roguePin := ca(t)
	const rogueServer = "https://rogue.example.net"
	args := []string{"credential", "--cluster-name", "rogue", "--oidc-issuer-url", issuer, "--oidc-client-id", client,
		"--oidc-extra-scope", "email", "--server", rogueServer, "--pin", roguePin, "--token-cache", "file", "--cache-dir", h.dir}
	ok, out, _, err := h.answer(args, h.execInfo(rogueServer, rogueCA))
	if ok || err != nil || out != "" {
		t.Fatalf("unapproved cluster: Answer = %v, %v, stdout %q; want a hand-over with nothing written", ok, err, out)
	}
	// Approved, the same request is answered: the refusal was the approval.
	h.approve(t, rogueServer, roguePin)
	if ok, out, _, err := h.answer(args, h.execInfo(rogueServer, rogueCA)); !ok || err != nil || out == "" {
		t.Fatalf("approved cluster: Answer = %v, %v, stdout %q", ok, err, out)
	}
	// No approvals file at all approves nothing.
	if err := os.Remove(binding.ApprovalsPathIn(h.dir)); err != nil {
		t.Fatal(err)
	}
	if ok, _, _, _ := h.answer(h.args(), h.execInfo(server, h.caPEM)); ok {
		t.Fatal("answered with no approvals file")
	}
}

// answersOnlyForItsMaterial caches a machine grant's token minted under
// the job material minted (the value of variable) and asks the fast path
// with each material of cases: answered exactly where the case says.
func answersOnlyForItsMaterial(t *testing.T, h *harness, args []string, variable, minted string, cases map[string]bool) {
	t.Helper()
	var a access.Flags
	if _, err := a.ParseExecArgs(args[1:]); err != nil {
		t.Fatal(err)
	}
	h.key = a.Key()
	h.approve(t, server, h.pin)
	tok := idToken(issuer, client, now.Add(5*time.Minute))
	jobEnv := func(material string) func(string) string {
		return func(name string) string {
			switch name {
			case "KUBERNETES_EXEC_INFO":
				return h.execInfo(server, h.caPEM)
			case variable:
				return material
			}
			return ""
		}
	}
	if err := h.store.Put(h.key, &tokenstore.TokenSet{IDToken: tok, Source: a.Source(jobEnv(minted))}); err != nil {
		t.Fatal(err)
	}
	for material, want := range cases {
		var out bytes.Buffer
		ok, err := Answer(Process{Args: args, Stdout: &out, Stderr: &bytes.Buffer{}, Now: func() time.Time { return now }, Getenv: jobEnv(material)})
		if err != nil || ok != want || (ok != strings.Contains(out.String(), tok)) {
			t.Errorf("job with %s=%q: Answer = %v, %v (want %v), stdout %q", variable, material, ok, err, want, out.String())
		}
	}
}

// TestAnswersACachedCITokenOnlyForItsJob: the small program serves a CI
// grant's cached token from the file store while the job's material (here
// GitLab's variable) is the one it was minted from; another job, or the
// variable gone, hands over to the full CLI, which mints or explains.
func TestAnswersACachedCITokenOnlyForItsJob(t *testing.T) {
	h := newHarness(t)
	args := h.args("--grant", "ci-token", "--ci-token-source", "gitlab", "--ci-token-var", "KAPI_ID_TOKEN")
	answersOnlyForItsMaterial(t, h, args, "KAPI_ID_TOKEN", "job-1-token", map[string]bool{"job-1-token": true, "job-2-token": false, "": false})
}

// TestAnswersACachedClientCredentialsTokenOnlyWithItsSecret: a client
// credentials token is cached with a fingerprint of the client secret, so a
// later job on the same runner gets it only when it holds the same secret;
// a job whose secret variable is not even set, or holds another secret,
// hands over to the full CLI (which mints or explains).
func TestAnswersACachedClientCredentialsTokenOnlyWithItsSecret(t *testing.T) {
	h := newHarness(t)
	args := h.args("--grant", "client-credentials", "--client-secret-env", "KAPI_CLIENT_SECRET")
	answersOnlyForItsMaterial(t, h, args, "KAPI_CLIENT_SECRET", "s3cret-one\n", map[string]bool{"s3cret-one": true, "s3cret-two": false, "": false})
	data, err := os.ReadFile(filepath.Join(h.dir, "tokens", h.key.ID()+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cret") {
		t.Error("the token file holds the client secret")
	}
}
