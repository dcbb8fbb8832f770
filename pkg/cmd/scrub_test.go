package cmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/credentialcmd"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// echoingIssuer is an identity provider whose token endpoint refuses every
// refresh with an error_description that quotes the tokens quoted returns
// (the refresh token it was sent, the ID token it issued), as a careless or
// hostile one may.
func echoingIssuer(t *testing.T, quoted *atomic.Pointer[[]string]) (issuer, caFile string) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/token" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
				"error_description": "tokens " + strings.Join(*quoted.Load(), " and ") + " are revoked"})
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys"}`, srv.URL)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

// expiredIDToken is a JWT from issuer for client kubectl that expired an
// hour ago.
func expiredIDToken(issuer string) string {
	return testjwt.Unsigned(map[string]any{"iss": issuer, "aud": "kubectl", "sub": "u1", "exp": time.Now().Add(-time.Hour).Unix()})
}

// TestErrorsAndLogsNeverCarryTokens: a cached token set has expired, the
// refresh is refused, and the provider's error_description quotes both
// tokens. Neither reaches the error text, stderr or the debug log.
func TestErrorsAndLogsNeverCarryTokens(t *testing.T) {
	refreshToken := "Cg" + strings.Repeat("r3fr3shS3cr3t", 8)
	var quoted atomic.Pointer[[]string]
	issuer, caFile := echoingIssuer(t, &quoted)
	idTok := expiredIDToken(issuer)
	quoted.Store(&[]string{refreshToken, idTok})
	dir := t.TempDir()

	key := (&access.Flags{Issuer: issuer, ClientID: "kubectl", OIDCCAFile: caFile}).Key() // as the credential call keys it
	store, err := tokenstore.NewFileStore(filepath.Join(dir, "cache", "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(key, &tokenstore.TokenSet{IDToken: idTok, RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	ca := cmdtest.NewPair(t, nil, "cluster CA")
	// The cluster is approved for this login, so the refresh is what fails.
	stanza := &access.Flags{Issuer: issuer, ClientID: "kubectl", OIDCCAFile: caFile, Server: "https://kapi.example.com", Pins: []string{cmdtest.PinOf(ca)}}
	b, err := stanza.Binding()
	if err != nil {
		t.Fatal(err)
	}
	approve(t, filepath.Join(dir, "cache"), key, b)
	execInfo := fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://kapi.example.com","certificate-authority-data":%q}}}`,
		base64.StdEncoding.EncodeToString(ca.CertPEM))
	env := map[string]string{"HOME": dir, "SECUREKAPI_CACHE_DIR": filepath.Join(dir, "cache"), "KUBERNETES_EXEC_INFO": execInfo}
	var out, errOut bytes.Buffer
	g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	g.Getenv = func(k string) string { return env[k] }

	code := execute(t.Context(), g, []string{"credential", "-v", "1", "--token-cache", "file",
		"--oidc-issuer-url", issuer, "--oidc-client-id", "kubectl", "--oidc-ca-file", caFile,
		"--server", "https://kapi.example.com", "--pin", cmdtest.PinOf(ca)})
	if code == 0 {
		t.Fatalf("credential succeeded after a refused refresh:\n%s", errOut.String())
	}
	stderr := errOut.String()
	for name, secret := range map[string]string{"refresh token": refreshToken, "ID token": idTok} {
		for _, piece := range []string{secret, secret[:16], secret[len(secret)/2 : len(secret)/2+16]} {
			if strings.Contains(stderr, piece) || strings.Contains(out.String(), piece) {
				t.Fatalf("the %s reached the output:\n%s", name, stderr)
			}
		}
	}
	if !strings.Contains(stderr, "invalid_grant") || !strings.Contains(stderr, redact.Redacted) || !strings.Contains(stderr, "level=DEBUG") {
		t.Errorf("stderr lacks the provider's refusal, the redaction mark or the debug log:\n%s", stderr)
	}

	t.Run("the error the command returns is clean too", func(t *testing.T) {
		if err := store.Put(key, &tokenstore.TokenSet{IDToken: idTok, RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		s := cmdtest.NewUserSession(t)
		s.Env = env
		err := s.Command(credentialcmd.NewCmdCredential, "--token-cache", "file", "--oidc-issuer-url", issuer, "--oidc-client-id", "kubectl",
			"--oidc-ca-file", caFile, "--server", "https://kapi.example.com", "--pin", cmdtest.PinOf(ca))
		if err == nil {
			t.Fatal("credential succeeded")
		}
		if strings.Contains(err.Error(), refreshToken[:16]) || strings.Contains(err.Error(), idTok[:16]) {
			t.Fatalf("the error quotes a token: %v", err)
		}
		if !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("the error lost the provider's refusal: %v", err)
		}
	})
}

// TestRootAndLoggerRedactHeldTokens: whatever quotes a token the process
// holds (here a flag error echoing its argument, and a debug line) is
// redacted where the process prints it.
func TestRootAndLoggerRedactHeldTokens(t *testing.T) {
	token := "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("c2VjcmV0", 10)
	var out, errOut bytes.Buffer
	g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	g.Getenv = func(string) string { return "" }
	g.Secrets.Add(token)

	code := execute(t.Context(), g, []string{"login", "--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl", "--grant", token})
	if code == 0 || !strings.Contains(errOut.String(), "--grant") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	g.Verbosity = 1
	g.Logger().Debug("provider said", "body", "token="+token[5:40])
	if strings.Contains(errOut.String(), token[5:25]) || strings.Count(errOut.String(), redact.Redacted) != 2 {
		t.Fatalf("a held token reached stderr:\n%s", errOut.String())
	}
}

// approve records the user's approval of b for the login of key in
// the approvals file under cacheDir, as `login NAME` on a terminal would.
func approve(t *testing.T, cacheDir string, key tokenstore.Key, b binding.Binding) {
	t.Helper()
	target := b.ApprovalTarget()
	store := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(cacheDir)}
	if err := store.Update(func(f *binding.ApprovalsFile) error {
		f.Approve(binding.ApprovalFor(key.ID(), target))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRootEscapesErrorText: an error may quote outside text raw (here
// cobra's unknown-flag error, quoting an argument a kubeconfig's exec
// stanza could hold); it reaches stderr with its control characters
// escaped.
func TestRootEscapesErrorText(t *testing.T) {
	var out, errOut bytes.Buffer
	g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	g.Getenv = func(string) string { return "" }
	code := execute(t.Context(), g, []string{"status", "--x\x1b]0;pwned\x07\x1b[2J\u202e"})
	if code == 0 || strings.ContainsAny(errOut.String(), "\x1b\x07\u202e") {
		t.Fatalf("exit %d, stderr carries control characters raw: %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `--x\x1b]0;pwned\x07\x1b[2J\u202e`) {
		t.Errorf("stderr does not show the argument escaped: %q", errOut.String())
	}
}
