package use

import (
	"slices"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
)

// TestUseWritesTheRegisteredAccess: the exec stanza `use` writes for a
// registered cluster (scopes, parameters, issuer CA, TLS name, pins) is
// exactly cmdutil.AccessFor of its registration, which the approval prompt
// of import and add and logout's registry fallback read the cluster with;
// so the approval `use --approve` records is the one AccessFor's key and
// binding find.
func TestUseWritesTheRegisteredAccess(t *testing.T) {
	f := cmdtest.NewAddFixture(t, "email")
	args := f.Args("cluster-a", "--oidc-extra-scope", "email", "--oidc-auth-request-extra-params", "prompt=consent,login")
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, add.NewCmdAdd, args...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	kubeconfig := cmdtest.WriteKubeconfig(t, "https://other.example.com", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Env["KUBECONFIG"] = kubeconfig
	f.Env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--approve"); err != nil {
		t.Fatalf("use --approve: %v\n%s", err, errOut)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	written := cfg.AuthInfos[userName("cluster-a")].Exec.Args[1:]
	for _, flag := range []string{"--oidc-extra-scope", "--oidc-auth-request-extra-params", "--oidc-ca-file", "--tls-server-name", "--pin"} {
		if !slices.Contains(written, flag) {
			t.Fatalf("use wrote no %s: %q", flag, written)
		}
	}
	pins := pinsInExecArgs(written) // the registered pins and the verified chain's CAs
	registered := f.Registered(t, "cluster-a")
	a := cmdutil.AccessFor(&registered, pins)
	if got := a.ExecArgs(); !slices.Equal(got, written) {
		t.Fatalf("AccessFor(registration) = %q\nuse wrote               %q", got, written)
	}

	cand, err := cmdutil.CandidateFor(&registered, pins)
	if err != nil {
		t.Fatal(err)
	}
	file, err := (&binding.ApprovalStore{Path: binding.ApprovalsPathIn(f.Env["SECUREKAPI_CACHE_DIR"])}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if !file.Allows(cand.Key.ID(), cand.Binding.ApprovalTarget()) {
		t.Errorf("the approval use recorded (%+v) is not found under AccessFor's key %s", file.Approvals, cand.Key.ID())
	}
}
