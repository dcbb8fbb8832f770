package shell

import (
	"slices"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdShellFlags(t *testing.T) {
	var got *ShellOptions
	cmd := newCmdShell(cmdtest.Factory(map[string]string{"SHELL": "/bin/zsh"}), func(o *ShellOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "cluster-a" || !slices.Equal(got.Command, []string{"/bin/zsh"}) || !got.interactive {
		t.Errorf("options = %+v", got)
	}
}
