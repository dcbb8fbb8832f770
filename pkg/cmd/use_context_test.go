package cmd

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestUseRefusesTheContextFlag: `use --context X` is refused with the
// command to run, rather than ignored (which used to switch nothing, or
// to the argument, while the user meant X).
func TestUseRefusesTheContextFlag(t *testing.T) {
	f, kubeconfig, before := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	var out, errOut bytes.Buffer
	g := cmdtest.Factory(f.Env)
	g.Out, g.ErrOut, g.Kubeconfig = &out, &errOut, kubeconfig
	root := NewCmdRoot(g)
	root.SetArgs([]string{"use", "--context", "cluster-a"})
	root.SetOut(&errOut)
	root.SetErr(&errOut)
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "kubectl securekapi use cluster-a") {
		t.Fatalf("use --context cluster-a: err = %v\n%s", err, errOut.String())
	}
	if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
		t.Errorf("the refused use changed the kubeconfig:\n%s", now)
	}
}
