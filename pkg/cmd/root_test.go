package cmd

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestCompletionIsData: shells read completion scripts and candidates from
// stdout (release.sh ships the scripts, kubectl_complete-securekapi reads
// the candidates); help stays on stderr.
func TestCompletionIsData(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"completion", "bash"}, "__start_kubectl-securekapi"},
		{[]string{"completion", "zsh"}, "#compdef kubectl-securekapi"},
		{[]string{"__complete", ""}, "credential"},
		{[]string{"__complete", "log"}, "login"},
	} {
		var out, errOut bytes.Buffer
		code := execute(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, tc.args)
		if code != 0 || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%q: exit %d, stdout %.80q, stderr %.200q; want %q on stdout", tc.args, code, out.String(), errOut.String(), tc.want)
		}
	}
	var out, errOut bytes.Buffer
	execute(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, []string{"--help"})
	if out.Len() != 0 || !strings.Contains(errOut.String(), "Usage:") {
		t.Errorf("--help: stdout %.80q, stderr %.80q; want help on stderr only", out.String(), errOut.String())
	}
}
