package shell

import (
	"slices"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestShellArgs: NAME alone starts $SHELL (else /bin/sh), NAME -- COMMAND
// runs the command, anything else is a usage error naming the form.
func TestShellArgs(t *testing.T) {
	for _, c := range []struct {
		args, want  []string
		shell       string
		interactive bool
		err         string
	}{
		{args: []string{"a"}, shell: "/bin/zsh", want: []string{"/bin/zsh"}, interactive: true},
		{args: []string{"a"}, want: []string{"/bin/sh"}, interactive: true},
		{args: []string{"a", "--", "kubectl", "get", "ns"}, shell: "/bin/zsh", want: []string{"kubectl", "get", "ns"}},
		{args: []string{"a", "b"}, err: "usage: kubectl securekapi shell NAME [-- COMMAND"},
		{args: []string{"a", "--"}, err: "usage:"},
		{args: []string{"--", "kubectl"}, err: "usage:"},
	} {
		env := map[string]string{"SHELL": c.shell}
		f := cmdtest.Factory(env)
		o := &ShellOptions{IOStreams: f.IOStreams, Getenv: f.Getenv}
		cmd := NewCmdShell(f)
		if err := cmd.Flags().Parse(c.args); err != nil {
			t.Fatal(err)
		}
		err := o.Complete(cmd, cmd.Flags().Args())
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err = %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || o.Name != "a" || !slices.Equal(o.Command, c.want) || o.interactive != c.interactive {
			t.Errorf("%v: name %q command %v interactive %v (%v), want a %v %v", c.args, o.Name, o.Command, o.interactive, err, c.want, c.interactive)
		}
	}
}
