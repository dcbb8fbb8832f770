package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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

// exeEnv names kubectl-securekapi.exe, built as released (no test overlay)
// by scripts/windows-tests.sh, which sets it.
const exeEnv = "SECUREKAPI_TEST_WINDOWS_EXE"

// TestExecPathOnWindows runs kubectl-securekapi.exe credential as kubectl
// on Windows would: a real KUBERNETES_EXEC_INFO with the cluster's inline
// CA, the token in Windows Credential Manager (put there by this Windows
// build through go-keyring's wincred), the approval of the pinned CA in
// the cache directory. It answers for the pinned CA and refuses, with
// nothing on stdout, when the exec info carries another CA: the server
// kubectl is about to send the token to is not the pinned one.
func TestExecPathOnWindows(t *testing.T) {
	exe := os.Getenv(exeEnv)
	if exe == "" {
		t.Skipf("runs under make windows-test, which builds kubectl-securekapi.exe and sets %s", exeEnv)
	}
	const (
		issuer = "https://dex.example.com"
		client = "kubectl"
		server = "https://kapi.example.com:6443"
	)
	pinned := testpki.New(t, testpki.Spec{CN: "Enterprise CA", CA: true})
	other := testpki.New(t, testpki.Spec{CN: "Enterprise CA", CA: true}) // same name, another key
	service := fmt.Sprintf("securekapi-wine-test-%d", time.Now().UnixNano())
	key := token.Key(issuer, client, []string{"email"}, nil)
	token := testjwt.Unsigned(map[string]any{"iss": issuer, "aud": client, "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})

	store := &tokenstore.KeyringStore{Keyring: tokenstore.SystemKeyring(), Service: service}
	if err := store.Put(key, &tokenstore.TokenSet{IDToken: token, RefreshToken: "r"}); err != nil {
		t.Fatalf("put the token in Credential Manager: %v", err)
	}
	t.Cleanup(func() { store.Delete(key) })

	cacheDir := t.TempDir()
	issuerTrust, err := (&access.Flags{}).IssuerTrust()
	if err != nil {
		t.Fatal(err)
	}
	b := binding.Binding{Server: server, Pins: []pinning.Pin{pinned.Pin()}, IssuerTrust: issuerTrust}
	approvals := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(cacheDir)}
	if err := approvals.Update(func(f *binding.ApprovalsFile) error {
		f.Approve(binding.ApprovalFor(key.ID(), b.ApprovalTarget()))
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	run := func(caPEM []byte) (stdout, stderr string, err error) {
		info := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false,"cluster":{"server":%q,"certificate-authority-data":%q}}}`,
			server, base64.StdEncoding.EncodeToString(caPEM))
		cmd := exec.Command(exe, "credential", "--cluster-name", "a", "--oidc-issuer-url", issuer, "--oidc-client-id", client,
			"--oidc-extra-scope", "email", "--server", server, "--pin", string(pinned.Pin()), "--token-cache", "keyring", "--cache-dir", cacheDir)
		cmd.Env = append(os.Environ(), "KUBERNETES_EXEC_INFO="+info, "SECUREKAPI_KEYRING_SERVICE="+service)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}

	t.Run("the pinned CA gets the token from Credential Manager", func(t *testing.T) {
		stdout, stderr, err := run(pinned.CertPEM)
		if err != nil {
			t.Fatalf("kubectl-securekapi.exe credential: %v\nstderr: %s", err, stderr)
		}
		var cred struct {
			Kind, APIVersion string
			Status           struct{ Token string }
		}
		if err := json.Unmarshal([]byte(stdout), &cred); err != nil {
			t.Fatalf("stdout is no ExecCredential: %v\n%s", err, stdout)
		}
		if cred.Kind != "ExecCredential" || cred.APIVersion != "client.authentication.k8s.io/v1" || cred.Status.Token != token {
			t.Fatalf("ExecCredential = %+v, want the token from Credential Manager", cred)
		}
	})
	t.Run("another CA gets nothing", func(t *testing.T) {
		stdout, stderr, err := run(other.CertPEM)
		if err == nil || stdout != "" || strings.Contains(stderr, token) {
			t.Fatalf("with another CA: err %v, stdout %q, stderr %q; want a non-zero exit and nothing on stdout", err, stdout, stderr)
		}
		if !strings.Contains(stderr, "pin") {
			t.Errorf("stderr does not say the pin did not match:\n%s", stderr)
		}
		t.Logf("refused: %s", strings.TrimSpace(stderr))
	})
}
