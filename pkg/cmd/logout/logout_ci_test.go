package logout

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// TestLogoutForgetsACIContext: after `use cluster-a --ci github --approve`
// and a CI token cached under the CI grant's own key, `logout cluster-a`
// forgets that approval and that token: it looks them up under the key
// the credential path uses, not a person's login's.
func TestLogoutForgetsACIContext(t *testing.T) {
	ci := cmdtest.NewCIContext(t, add.NewCmdAdd, use.NewCmdUse, nil)
	approvals := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(ci.CacheDir)}
	if before, err := approvals.Load(); err != nil || len(before.Approvals) != 1 {
		t.Fatalf("approvals after use --ci = %v (%v), want the CI grant's one", before, err)
	}
	ci.Cache(t, &tokenstore.TokenSet{IDToken: "ci-id-token", Expiry: time.Now().Add(time.Hour)})

	_, errOut, err := cmdtest.RunWithEnv(t, ci.Env, NewCmdLogout, "cluster-a")
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
	if left, _ := ci.Store.List(); len(left) != 0 {
		t.Errorf("logout cluster-a kept %d CI token set(s)\n%s", len(left), errOut)
	}
	if !strings.Contains(errOut, "no refresh token") {
		t.Errorf("logout did not say there was nothing to revoke:\n%s", errOut)
	}
}

// TestLogoutFromTheRegistryForgetsACIApproval: with the kubeconfig
// unreadable, logout rebuilds the cluster from the registry, which does not
// record `use --ci`; the CI grant's approval of the cluster's server must
// go all the same, or the job would keep receiving tokens for it.
func TestLogoutFromTheRegistryForgetsACIApproval(t *testing.T) {
	ci := cmdtest.NewCIContext(t, add.NewCmdAdd, use.NewCmdUse, nil)
	approvals := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(ci.CacheDir)}
	if before, err := approvals.Load(); err != nil || len(before.Approvals) != 1 {
		t.Fatalf("approvals after use --ci = %v (%v), want the CI grant's one", before, err)
	}
	// Another cluster's approval must survive.
	other := binding.Approval{Identity: "another-login", Issuer: "https://other.example", ClientID: "kubectl",
		Cluster: "cluster-b", Server: "https://cluster-b.example:443", ApprovedAt: time.Now(), Via: "login"}
	if err := approvals.Update(func(f *binding.ApprovalsFile) error { f.Approve(other); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ci.Kubeconfig, []byte("apiVersion: v1\nkind: Config\ncontexts: {{{ not yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := cmdtest.RunWithEnv(t, ci.Env, NewCmdLogout, "cluster-a")
	if err != nil {
		t.Fatalf("logout with a malformed kubeconfig: %v\n%s", err, errOut)
	}
	after, err := approvals.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Approvals) != 1 || after.Approvals[0].Cluster != "cluster-b" {
		t.Errorf("after logout from the registry: approvals %+v, want only cluster-b's\n%s", after.Approvals, errOut)
	}
	if !strings.Contains(errOut, "Forgot the approval of cluster-a") {
		t.Errorf("logout did not say what it forgot:\n%s", errOut)
	}
}
