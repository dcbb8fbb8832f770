package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBashCompletionInstalls: the README's `source <(kubectl-securekapi
// completion bash)`, in a real bash, registers the completion; help goes
// to stdout and errors to stderr with a non-zero exit.
func TestBashCompletionInstalls(t *testing.T) {
	bin, err := filepath.Abs(os.Getenv("SECUREKAPI_BIN"))
	if err != nil || os.Getenv("SECUREKAPI_BIN") == "" {
		t.Fatal("set SECUREKAPI_BIN to the built kubectl-securekapi (make build)")
	}
	bash := exec.Command("bash", "--norc", "--noprofile", "-c",
		`source <("$0" completion bash) && complete -p kubectl-securekapi`, bin)
	out, err := bash.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-F __start_kubectl-securekapi kubectl-securekapi") {
		t.Fatalf("complete -p after sourcing the script: %v\n%s", err, out)
	}

	run := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	if stdout, stderr, err := run("--help"); err != nil || !strings.Contains(stdout, "Usage:") || stderr != "" {
		t.Errorf("--help: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
	for _, args := range [][]string{{"completion"}, {"completion", "bsh"}} {
		stdout, stderr, err := run(args...)
		if err == nil || stdout != "" || !strings.HasPrefix(stderr, "error: ") {
			t.Errorf("%v: err %v, stdout %q, stderr %q; want a non-zero exit and the error on stderr", args, err, stdout, stderr)
		}
	}
}
