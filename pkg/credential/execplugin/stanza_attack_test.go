package execplugin

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// The attacks of issue #23 on the small program, each by someone who writes
// the kubeconfig (the exec stanza's args and env, the cluster entry) and
// runs no code as the user. Each test fails on d9086b3.

// A third-party profile or stanza that reuses an approved cluster's server
// and pins with its own tls-server-name: kubectl would accept a certificate
// the pinned CA issued for that other name, so the approval of the cluster
// does not cover it.
func TestApprovalCoversTheTLSServerName(t *testing.T) {
	h := newHarness(t)
	h.put(t, idToken(issuer, client, now.Add(10*time.Minute)))
	const otherName = "internal.example.com"
	info := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false,"cluster":{"server":%q,"tls-server-name":%q,"certificate-authority-data":%q}}}`,
		server, otherName, base64.StdEncoding.EncodeToString(h.caPEM))
	ok, out, _, err := h.answer(h.args("--tls-server-name", otherName), info)
	if ok || out != "" || err != nil {
		t.Fatalf("a stanza that only changes the TLS name: Answer = %v, %v, stdout %q; want nothing released", ok, err, out)
	}
}

// A stanza that trusts the issuer through another CA bundle (here the
// reader's own environment, which the stanza's env sets, or a plain file
// the approval never saw) could steer a refresh to whoever holds that CA.
func TestApprovalCoversTheIssuerTrust(t *testing.T) {
	h := newHarness(t)
	h.put(t, idToken(issuer, client, now.Add(10*time.Minute)))
	otherCA, _ := ca(t)
	attackerBundle := filepath.Join(t.TempDir(), "attacker-ca.pem")
	if err := os.WriteFile(attackerBundle, otherCA, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, caFile := range map[string]string{"/proc/self/environ": "/proc/self/environ", "a bundle never approved": attackerBundle} {
		ok, out, _, err := h.answer(h.args("--oidc-ca-file", caFile), h.execInfo(server, h.caPEM))
		if ok || out != "" || err != nil {
			t.Errorf("%s: Answer = %v, %v, stdout %q; want nothing released", name, ok, err, out)
		}
	}
}

// The stanza's --cache-dir (or SECUREKAPI_CACHE_DIR in its env) names a
// directory holding a forged approvals file that approves the attacker's
// server, and a token set: neither a directory another user controls nor a
// file as a repository or download holds it (0644) is read.
func TestApprovalsComeOnlyFromTheUsersOwnFiles(t *testing.T) {
	h := newHarness(t)
	tok := idToken(issuer, client, now.Add(10*time.Minute))
	rogueCA, roguePin := ca(t)
	const rogueServer = "https://rogue.example.net"
	forge := func(t *testing.T, dir string, fileMode os.FileMode) {
		t.Helper()
		store, err := tokenstore.NewFileStore(filepath.Join(dir, "tokens"))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Put(h.key, &tokenstore.TokenSet{IDToken: tok}); err != nil {
			t.Fatal(err)
		}
		target := binding.NewTarget(rogueServer+":443", []string{roguePin})
		target.IssuerTrust = h.issuerTrust(t)
		f := binding.ApprovalsFile{Version: binding.ApprovalsVersion, Approvals: []binding.Approval{binding.ApprovalFor(h.key.ID(), target)}}
		data := fmt.Sprintf(`{"version":1,"approvals":[{"identity":%q,"server":%q,"pins":[%q],"issuerTrust":%q}]}`,
			f.Approvals[0].Identity, f.Approvals[0].Server, roguePin, f.Approvals[0].IssuerTrust)
		// As securekapi writes it (an owner-only ACL on Windows for 0600).
		if err := atomicfile.WriteMode(binding.ApprovalsPathIn(dir), []byte(data), fileMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(binding.ApprovalsPathIn(dir), fileMode); err != nil {
			t.Fatal(err)
		}
	}
	args := func(dir string) []string {
		return []string{"credential", "--cluster-name", "rogue", "--oidc-issuer-url", issuer, "--oidc-client-id", client,
			"--oidc-extra-scope", "email", "--server", rogueServer, "--pin", roguePin, "--token-cache", "file", "--cache-dir", dir}
	}

	t.Run("a file as a repository holds it", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("a mode says nothing on Windows; the Windows form of this file, one whose ACL lets others read it, is refused in pkg/userfile's TestReadPrivateFileRefusesWhatOthersCanReadOrChange")
		}
		repo := filepath.Join(t.TempDir(), "checkout", "securekapi")
		if err := os.MkdirAll(repo, 0o755); err != nil {
			t.Fatal(err)
		}
		forge(t, repo, 0o644)
		if ok, out, _, _ := h.answer(args(repo), h.execInfo(rogueServer, rogueCA)); ok || out != "" {
			t.Fatalf("released the token on a forged approvals file: stdout %q", out)
		}
	})
	t.Run("another user's directory", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("making another user's directory needs root")
		}
		theirs := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(theirs, 0o777); err != nil {
			t.Fatal(err)
		}
		forge(t, theirs, 0o600)
		if err := os.Chmod(theirs, 0o777); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{theirs, binding.ApprovalsPathIn(theirs)} {
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		if ok, out, _, _ := h.answer(args(theirs), h.execInfo(rogueServer, rogueCA)); ok || out != "" {
			t.Fatalf("released the token on another user's approvals file: stdout %q", out)
		}
	})
	// The control: the same forged file, had it been the user's own, is
	// what releases it; the refusals above were the files' owner and mode.
	t.Run("control: the user's own file", func(t *testing.T) {
		own := filepath.Join(t.TempDir(), "own")
		if err := os.Mkdir(own, 0o700); err != nil {
			t.Fatal(err)
		}
		forge(t, own, 0o600)
		if ok, out, _, _ := h.answer(args(own), h.execInfo(rogueServer, rogueCA)); !ok || !strings.Contains(out, tok) {
			t.Fatalf("the user's own approval did not release the token: %v, stdout %q", ok, out)
		}
	})
}
