package logout

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/credential/approval"
	"github.com/securekapi/securekapi/pkg/credential/tokencache"
)

// TestLogoutForgetsACIContext: after `use cluster-a --ci github --approve`
// and a CI token cached under the CI grant's own key, `logout cluster-a`
// forgets that approval and that token: it looks them up under the key
// the credential path uses, not a person's login's.
func TestLogoutForgetsACIContext(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	cacheDir := t.TempDir()
	f.Env["SECUREKAPI_CACHE_DIR"] = cacheDir
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "cluster-a", "--ci", "github", "--approve"); err != nil {
		t.Fatalf("use --ci github: %v\n%s", err, errOut)
	}
	approvals := &approval.Store{Path: approval.PathIn(cacheDir)}
	if before, err := approvals.Load(); err != nil || len(before.Approvals) != 1 {
		t.Fatalf("approvals after use --ci = %v (%v), want the CI grant's one", before, err)
	}
	a := cmdtest.AccessOf(t, kubeconfig, "cluster-a")
	store, err := tokencache.NewFileStore(filepath.Join(cacheDir, "tokens")) // a CI grant's store, whatever --token-cache says
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(a.Key(), &tokencache.TokenSet{IDToken: "ci-id-token", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdLogout, "cluster-a")
	if err != nil {
		t.Fatalf("logout: %v\n%s", err, errOut)
	}
	after, err := approvals.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Approvals) != 0 {
		t.Errorf("logout cluster-a kept the CI approval %+v\n%s", after.Approvals, errOut)
	}
	if left, _ := store.List(); len(left) != 0 {
		t.Errorf("logout cluster-a kept %d CI token set(s)\n%s", len(left), errOut)
	}
	if !strings.Contains(errOut, "no refresh token") {
		t.Errorf("logout did not say there was nothing to revoke:\n%s", errOut)
	}
}
