package cmdtest

import (
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// CIContext is cluster-a written by `use cluster-a --ci github --approve`:
// a CI grant's context, approved, whose tokens the credential path keeps
// in the file store of CacheDir (SECUREKAPI_CACHE_DIR) under the grant's
// own key.
type CIContext struct {
	*AddFixture
	Kubeconfig, CacheDir string
	// Access is the context's exec stanza, as the credential call reads it.
	Access *cmdutil.AccessFlags
	// Store is the file store a CI grant's tokens live in.
	Store *tokenstore.FileStore
}

// NewCIContext sets the context up; env is added to the fixture's
// environment first. newAdd and newUse are add.NewCmdAdd and
// use.NewCmdUse (passed in: this package imports no command).
func NewCIContext(t *testing.T, newAdd, newUse func(*cmdutil.Factory) *cobra.Command, env map[string]string) *CIContext {
	t.Helper()
	f, kubeconfig, _ := Usable(t, newAdd, 0o600)
	c := &CIContext{AddFixture: f, Kubeconfig: kubeconfig, CacheDir: t.TempDir()}
	f.Env["SECUREKAPI_CACHE_DIR"] = c.CacheDir
	for k, v := range env {
		f.Env[k] = v
	}
	if _, errOut, err := RunWithEnv(t, f.Env, newUse, "cluster-a", "--ci", "github", "--approve"); err != nil {
		t.Fatalf("use --ci github: %v\n%s", err, errOut)
	}
	c.Access = AccessOf(t, kubeconfig, "cluster-a")
	store, err := tokenstore.NewFileStore(filepath.Join(c.CacheDir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	c.Store = store
	return c
}

// Cache stores ts as the credential path would have after minting it.
func (c *CIContext) Cache(t *testing.T, ts *tokenstore.TokenSet) {
	t.Helper()
	if err := c.Store.Put(c.Access.Key(), ts); err != nil {
		t.Fatal(err)
	}
}
