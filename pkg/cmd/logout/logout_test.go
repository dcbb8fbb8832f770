package logout

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// revokingIssuer serves OIDC discovery with a revocation endpoint over TLS
// and records the refresh tokens revoked there.
type revokingIssuer struct {
	url, caFile string
	mu          sync.Mutex
	revoked     []string
}

func newRevokingIssuer(t *testing.T) *revokingIssuer {
	t.Helper()
	iss := &revokingIssuer{}
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
				"jwks_uri": srv.URL + "/keys", "revocation_endpoint": srv.URL + "/revoke",
				"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
				"id_token_signing_alg_values_supported": []string{"RS256"},
			})
		case "/revoke":
			r.ParseForm()
			iss.mu.Lock()
			iss.revoked = append(iss.revoked, r.PostForm.Get("token"))
			iss.mu.Unlock()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	iss.url = srv.URL
	iss.caFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(iss.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return iss
}

func (iss *revokingIssuer) revokedTokens() []string {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return slices.Sorted(slices.Values(iss.revoked))
}

// logoutFixture: cluster-a and cluster-b registered with one issuer and
// client ID, cluster-a written to kubeconfig by `use`, and a file store
// holding cluster-a's current token set, an older one obtained with other
// scopes, and another issuer's.
type logoutFixture struct {
	f          *cmdtest.AddFixture
	kubeconfig string
	issuer     *revokingIssuer
	store      tokenstore.Store
	current    tokenstore.Key
	other      tokenstore.Key
}

func newLogoutFixture(t *testing.T) *logoutFixture {
	t.Helper()
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	iss := newRevokingIssuer(t)
	for _, name := range []string{"cluster-a", "cluster-b"} {
		args := f.Args(name, "--oidc-issuer-url", iss.url, "--oidc-ca-file", iss.caFile, "--oidc-extra-scope", "email", "--replace")
		if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, add.NewCmdAdd, args...); err != nil {
			t.Fatalf("add %s: %v\n%s", name, err, errOut)
		}
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "cluster-a"); err != nil {
		t.Fatalf("use: %v\n%s", err, errOut)
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	f.Env["SECUREKAPI_CACHE_DIR"] = cacheDir
	f.Env["SECUREKAPI_TOKEN_CACHE"] = "file"
	store, err := tokenstore.NewFileStore(filepath.Join(cacheDir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	lf := &logoutFixture{f: f, kubeconfig: kubeconfig, issuer: iss, store: store,
		current: cmdtest.AccessOf(t, kubeconfig, "cluster-a").Key(),
		other:   tokenstore.Key{Issuer: "https://127.0.0.1:1", ClientID: "kubectl"}} // loopback, refused
	lf.login(t)
	return lf
}

// login stores the three token sets.
func (lf *logoutFixture) login(t *testing.T) {
	t.Helper()
	older := lf.current
	older.Scopes = []string{"groups"} // the cluster's scopes before they changed
	older.ExtraParams = map[string]string{"prompt": "consent"}
	for k, rt := range map[*tokenstore.Key]string{&lf.current: "rt-current", &older: "rt-older", &lf.other: "rt-other"} {
		if err := lf.store.Put(*k, &tokenstore.TokenSet{IDToken: "id-" + rt, RefreshToken: rt}); err != nil {
			t.Fatal(err)
		}
	}
	if all, _ := lf.store.List(); len(all) != 3 {
		t.Fatalf("the store holds %d token sets, want 3", len(all))
	}
}

// left is the refresh tokens still stored.
func (lf *logoutFixture) left(t *testing.T) []string {
	t.Helper()
	all, err := lf.store.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ts := range all {
		out = append(out, ts.RefreshToken)
	}
	return out
}

// TestLogoutForgetsEveryTokenSetOfTheIdentity: `logout NAME` removes and
// revokes the token set of the current scopes and the one left from before
// the scopes changed, keeps another issuer's, and names the registered
// cluster sharing the identity, which is logged out too.
func TestLogoutForgetsEveryTokenSetOfTheIdentity(t *testing.T) {
	lf := newLogoutFixture(t)
	_, errOut, err := cmdtest.RunWithEnv(t, lf.f.Env, NewCmdLogout, "cluster-a")
	if err != nil {
		t.Fatalf("logout: %v\n%s", err, errOut)
	}
	if left := lf.left(t); !slices.Equal(left, []string{"rt-other"}) {
		t.Errorf("after logout cluster-a the store still holds %v, want only rt-other", left)
	}
	if got := lf.issuer.revokedTokens(); !slices.Equal(got, []string{"rt-current", "rt-older"}) {
		t.Errorf("revoked %v, want rt-current and rt-older", got)
	}
	if !strings.Contains(errOut, "cluster-b") {
		t.Errorf("logout did not name cluster-b, which shares the identity:\n%s", errOut)
	}
}

// TestLogoutWorksWithAMalformedKubeconfig: a broken kubeconfig does not
// keep the user from forgetting a registered cluster's tokens.
func TestLogoutWorksWithAMalformedKubeconfig(t *testing.T) {
	lf := newLogoutFixture(t)
	if err := os.WriteFile(lf.kubeconfig, []byte("apiVersion: v1\nkind: Config\ncontexts: {{{ not yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := cmdtest.RunWithEnv(t, lf.f.Env, NewCmdLogout, "cluster-a")
	if err != nil {
		t.Fatalf("logout with a malformed kubeconfig: %v\n%s", err, errOut)
	}
	if left := lf.left(t); !slices.Equal(left, []string{"rt-other"}) {
		t.Errorf("the store still holds %v, want only rt-other", left)
	}
	if !strings.Contains(errOut, "registered settings") {
		t.Errorf("logout did not say where the settings came from:\n%s", errOut)
	}

	t.Run("a name neither in kubeconfig nor registered still fails", func(t *testing.T) {
		_, _, err := cmdtest.RunWithEnv(t, lf.f.Env, NewCmdLogout, "nowhere")
		if err == nil {
			t.Fatal("logout nowhere succeeded")
		}
	})
	t.Run("--all too", func(t *testing.T) {
		lf.login(t)
		if _, errOut, err := cmdtest.RunWithEnv(t, lf.f.Env, NewCmdLogout, "--all"); err != nil {
			t.Fatalf("logout --all: %v\n%s", err, errOut)
		}
		if left := lf.left(t); len(left) != 0 {
			t.Errorf("logout --all left %v", left)
		}
	})
}

// TestLogoutFromTheRegistryForgetsTheApproval: with the kubeconfig
// unreadable, `logout NAME` reads the registered cluster as the stanza
// `use` writes for it, extra scopes included, so it names the same login:
// the approval `use --approve` recorded is forgotten with the tokens.
func TestLogoutFromTheRegistryForgetsTheApproval(t *testing.T) {
	lf := newLogoutFixture(t)
	if _, errOut, err := cmdtest.RunWithEnv(t, lf.f.Env, use.NewCmdUse, "cluster-a", "--approve"); err != nil {
		t.Fatalf("use --approve: %v\n%s", err, errOut)
	}
	approvals := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(lf.f.Env["SECUREKAPI_CACHE_DIR"])}
	if before, err := approvals.Load(); err != nil || len(before.Approvals) != 1 {
		t.Fatalf("approvals after use --approve = %+v (%v), want cluster-a's", before, err)
	}
	if err := os.WriteFile(lf.kubeconfig, []byte("apiVersion: v1\nkind: Config\ncontexts: {{{ not yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := cmdtest.RunWithEnv(t, lf.f.Env, NewCmdLogout, "cluster-a")
	if err != nil {
		t.Fatalf("logout with a malformed kubeconfig: %v\n%s", err, errOut)
	}
	after, err := approvals.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Approvals) != 0 {
		t.Errorf("logout from the registry kept the approval %+v\n%s", after.Approvals, errOut)
	}
	if left := lf.left(t); !slices.Equal(left, []string{"rt-other"}) {
		t.Errorf("the store still holds %v, want only rt-other", left)
	}
}

// TestLogoutEscapesTheEmail: the email it names comes from the ID token;
// an escape sequence in it reaches the terminal as visible escapes.
func TestLogoutEscapesTheEmail(t *testing.T) {
	lf := newLogoutFixture(t)
	if err := lf.store.Put(lf.current, &tokenstore.TokenSet{IDToken: "id-rt-current", RefreshToken: "rt-current", Issuer: lf.issuer.url,
		Email: "alice@acc.test\x1b]0;owned\x07\x1b[2J"}); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := cmdtest.RunWithEnv(t, lf.f.Env, NewCmdLogout, "cluster-a")
	if err != nil {
		t.Fatalf("logout: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, `alice@acc.test\x1b]0;owned\x07\x1b[2J`) || strings.ContainsAny(errOut, "\x1b\x07") {
		t.Errorf("logout's message:\n%q", errOut)
	}
}
