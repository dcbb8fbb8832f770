package shell

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
)

// TestShellChildInheritsTheFactorysEnvironment: the command shell starts
// gets the environment the Factory hands out, not the test process's, with
// KUBECONFIG replaced by the private one.
func TestShellChildInheritsTheFactorysEnvironment(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "cluster-a"); err != nil {
		t.Fatalf("use: %v\n%s", err, errOut)
	}
	fields, out := cmdtest.ChildEnv(t, f.Env, NewCmdShell, "cluster-a")
	if len(fields) != 3 || fields[0] != "given" || fields[1] != "" || fields[2] == "" || fields[2] == kubeconfig {
		t.Errorf("the child saw given|process-only|KUBECONFIG = %q; want given||<the private kubeconfig>", out)
	}
}
