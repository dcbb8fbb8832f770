package run

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
)

// TestRunChildInheritsTheFactorysEnvironment: the command run starts gets
// the environment the Factory hands out, not the test process's, with
// KUBECONFIG replaced by the routed one.
func TestRunChildInheritsTheFactorysEnvironment(t *testing.T) {
	f, _ := cmdtest.Tunneled(t, add.NewCmdAdd, use.NewCmdUse)
	fields, out := cmdtest.ChildEnv(t, f.Env, NewCmdRun, "cluster-a")
	if len(fields) != 3 || fields[0] != "given" || fields[1] != "" || fields[2] == "" || fields[2] == f.Env["KUBECONFIG"] {
		t.Errorf("the child saw given|process-only|KUBECONFIG = %q; want given||<the routed kubeconfig>", out)
	}
}
