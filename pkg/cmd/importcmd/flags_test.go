package importcmd

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdImportFlags(t *testing.T) {
	env := map[string]string{"SECUREKAPI_CONFIG": "/home/u/.config/securekapi/clusters.yaml"}
	var got *ImportOptions
	cmd := newCmdImport(cmdtest.Factory(env), func(o *ImportOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "https://platform.example.com/p.yaml", "--dry-run", "--no-check", "--replace", "--approve"); err != nil {
		t.Fatal(err)
	}
	if got.Source != "https://platform.example.com/p.yaml" || !got.DryRun || !got.NoCheck || !got.Replace || !got.Approve || got.Registry == nil || got.Registry.Path != env["SECUREKAPI_CONFIG"] {
		t.Errorf("options = %+v", got)
	}
	if err := cmdtest.Execute(newCmdImport(cmdtest.Factory(env), func(*ImportOptions) error { t.Fatal("ran"); return nil }), "http://platform.example.com/p.yaml"); err == nil {
		t.Error("import over http was accepted")
	}
}
