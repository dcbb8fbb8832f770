package status

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// TestStatusOfACIContext: after `use cluster-a --ci github --approve` and
// a CI token cached by the credential path (under the CI grant's own key),
// status shows the context approved and logged in, and does not tell the
// job to log in: it looks both up under the key the credential path uses.
func TestStatusOfACIContext(t *testing.T) {
	// A person's logins on this machine go to the keyring; a CI grant's
	// tokens never do (the credential path keeps them in the file store),
	// so status must look for them there, as the credential call does.
	ci := cmdtest.NewCIContext(t, add.NewCmdAdd, use.NewCmdUse, map[string]string{"SECUREKAPI_TOKEN_CACHE": "keyring"})
	ci.Cache(t, &tokenstore.TokenSet{IDToken: "ci-id-token", Expiry: time.Now().Add(time.Hour), Subject: "repo:org/app:ref:refs/heads/main"})

	out, errOut, err := cmdtest.RunWithEnv(t, ci.Env, NewCmdStatus, "-o", "json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	var rows []ClusterStatus
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	if len(rows) != 1 || rows[0].Context != "cluster-a" {
		t.Fatalf("rows = %+v, want cluster-a", rows)
	}
	if r := rows[0]; !r.Approved || r.ApprovedBy != "use" {
		t.Errorf("cluster-a approved = %v (via %q), want approved by use --ci", r.Approved, r.ApprovedBy)
	}
	if r := rows[0]; r.Store != "file" || r.Grant != "ci-token" {
		t.Errorf("cluster-a store %q, grant %q; want the file store of the ci-token grant", r.Store, r.Grant)
	}
	if r := rows[0]; !r.LoggedIn || r.Subject != "repo:org/app:ref:refs/heads/main" {
		t.Errorf("cluster-a logged in = %v (subject %q), want the cached CI token", r.LoggedIn, r.Subject)
	}
	if strings.Contains(errOut, "Not approved") {
		t.Errorf("status says the approved CI context is not approved:\n%s", errOut)
	}
}

// TestStatusTellsACIJobHowToApprove: an unapproved CI context is told the
// `use ... --approve` that approves its grant, not a login it cannot do.
func TestStatusTellsACIJobHowToApprove(t *testing.T) {
	f, _, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	f.Env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "cluster-a", "--ci", "github"); err != nil {
		t.Fatalf("use --ci github: %v\n%s", err, errOut)
	}
	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdStatus)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "`kubectl securekapi use cluster-a --ci github --approve`") || strings.Contains(errOut, "securekapi login") {
		t.Errorf("status does not tell the CI job how to approve:\n%s", errOut)
	}
}
