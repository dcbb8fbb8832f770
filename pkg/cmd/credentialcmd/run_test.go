package credentialcmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

const issuer = "https://login.example.com"

// idToken is an unsigned ID token for the kubectl client (the credential
// path reads its claims; the API server verifies the signature).
func idToken(exp time.Time) string {
	return testjwt.Unsigned(map[string]any{"iss": issuer, "aud": "kubectl", "sub": "alice", "email": "alice@example.com", "exp": exp.Unix()})
}

// TestCredentialHandsTheCachedTokenOnlyToTheBoundServer runs the command
// kubectl runs: with a cached login approved for the bound server and its
// pinned CA, stdout is one ExecCredential holding the token; for another
// server, for the same server trusting another CA, or before the cluster
// is approved, nothing goes to stdout and no error or message quotes the
// token.
func TestCredentialHandsTheCachedTokenOnlyToTheBoundServer(t *testing.T) {
	ca, rogue := testpki.Root(t, "kapi CA"), testpki.Root(t, "rogue CA")
	cacheDir := t.TempDir()
	args := []string{"--cluster-name", "c", "--oidc-issuer-url", issuer, "--oidc-client-id", "kubectl",
		"--server", "https://kapi.example.com", "--pin", string(ca.Pin()), "--token-cache", "file"}
	token := idToken(time.Now().Add(time.Hour))

	var a cmdutil.AccessFlags
	if _, err := a.ParseExecArgs(args); err != nil {
		t.Fatal(err)
	}
	store, err := tokenstore.NewFileStore(filepath.Join(cacheDir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(a.Key(), &tokenstore.TokenSet{IDToken: token, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	run := func(server string, caPEM []byte) (string, string, error) {
		env := map[string]string{"SECUREKAPI_CACHE_DIR": cacheDir, "HOME": t.TempDir(),
			"KUBERNETES_EXEC_INFO": fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":%q,"certificate-authority-data":%q}}}`,
				server, base64.StdEncoding.EncodeToString(caPEM))}
		return cmdtest.RunWithEnv(t, env, NewCmdCredential, args...)
	}
	noToken := func(what, out, errOut string, err error) {
		t.Helper()
		if err == nil || out != "" {
			t.Errorf("%s: err = %v, stdout %q; want a refusal and nothing on stdout", what, err, out)
		}
		if err != nil && strings.Contains(err.Error()+errOut, token[len(token)-40:]) {
			t.Errorf("%s: the refusal quotes the token", what)
		}
	}

	out, errOut, err := run("https://kapi.example.com", ca.CertPEM)
	noToken("before the cluster is approved", out, errOut, err)
	if err != nil && !strings.Contains(err.Error(), "kubectl securekapi login c") {
		t.Errorf("the refusal of an unapproved cluster does not name the login that approves it: %v", err)
	}

	b, err := a.Binding()
	if err != nil {
		t.Fatal(err)
	}
	target := b.ApprovalTarget()
	if err := (&binding.ApprovalStore{Path: binding.ApprovalsPathIn(cacheDir)}).Update(func(f *binding.ApprovalsFile) error {
		f.Approve(binding.ApprovalFor(a.Key().ID(), target))
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	out, errOut, err = run("https://kapi.example.com", ca.CertPEM)
	if err != nil {
		t.Fatalf("credential for the bound server: %v\n%s", err, errOut)
	}
	var cred struct {
		APIVersion, Kind string
		Status           struct {
			Token               string    `json:"token"`
			ExpirationTimestamp time.Time `json:"expirationTimestamp"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &cred); err != nil {
		t.Fatalf("stdout is not one ExecCredential: %v\n%s", err, out)
	}
	if cred.Kind != "ExecCredential" || cred.APIVersion != "client.authentication.k8s.io/v1" || cred.Status.Token != token || cred.Status.ExpirationTimestamp.IsZero() {
		t.Errorf("ExecCredential = %+v", cred)
	}
	if strings.Contains(errOut, token[len(token)-40:]) {
		t.Error("the token reached stderr")
	}

	out, errOut, err = run("https://evil.example.com", ca.CertPEM)
	noToken("another server", out, errOut, err)
	out, errOut, err = run("https://kapi.example.com", rogue.CertPEM)
	noToken("the bound server trusting another CA", out, errOut, err)
	out, errOut, err = run("https://kapi.example.com", append(append([]byte{}, ca.CertPEM...), rogue.CertPEM...))
	noToken("the pinned CA with a rogue root beside it", out, errOut, err)
}
