package use

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdUseFlags(t *testing.T) {
	env := map[string]string{"SECUREKAPI_CONFIG": "/home/u/.config/securekapi/clusters.yaml"}
	var got *UseOptions
	cmd := newCmdUse(cmdtest.Factory(env), func(o *UseOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "--dry-run", "--token-cache", "file", "--exec-command", "/opt/bin/kubectl-securekapi", "--approve"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "cluster-a" || !got.DryRun || got.TokenCache != "file" || got.ExecCommand != "/opt/bin/kubectl-securekapi" || !got.Approve || got.Registry != env["SECUREKAPI_CONFIG"] {
		t.Errorf("options = %+v", got)
	}
}
