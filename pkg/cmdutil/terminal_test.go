package cmdutil

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/credential/binding"
)

// ttyFactory is NewFactory's Factory on buffers whose streams are terminals
// or not as a test says, with env as its whole environment.
func ttyFactory(stdin, stdout, stderr bool, env map[string]string) (*Factory, *bytes.Buffer) {
	var errOut bytes.Buffer
	g := NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut})
	g.Getenv = func(k string) string { return env[k] }
	g.StdinIsTTY, g.StdoutIsTTY, g.StderrIsTTY = stdin, stdout, stderr
	return g, &errOut
}

// TestDevNullIsNotATerminal: /dev/null is a character device, and a
// command whose streams are on it (cron, `</dev/null >/dev/null`) must see
// no terminal; neither is a buffer.
func TestDevNullIsNotATerminal(t *testing.T) {
	open := func(flag int) *os.File {
		f, err := os.OpenFile(os.DevNull, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	onDevNull := NewFactory(genericiooptions.IOStreams{In: open(os.O_RDONLY), Out: open(os.O_WRONLY), ErrOut: open(os.O_WRONLY)})
	if onDevNull.StdinIsTTY || onDevNull.StdoutIsTTY || onDevNull.StderrIsTTY || loginIO(onDevNull).CanPrompt() {
		t.Errorf("streams on %s taken for a terminal: stdin %v, stdout %v, stderr %v", os.DevNull,
			onDevNull.StdinIsTTY, onDevNull.StdoutIsTTY, onDevNull.StderrIsTTY)
	}
	onBuffers := NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	if onBuffers.StdinIsTTY || onBuffers.StdoutIsTTY || onBuffers.StderrIsTTY {
		t.Error("buffers taken for a terminal")
	}
	onBuffers.StdinIsTTY, onBuffers.StderrIsTTY = true, false
	if loginIO(onBuffers).CanPrompt() {
		t.Error("a prompt offered with stderr, where it is asked, off a terminal")
	}
}

// TestApprovalAsksOnlyWhereAPersonCanAnswer: the prompt the Factory's Approver
// builds asks y/N when stdin and stderr are terminals, and otherwise
// refuses with the way to approve, whatever stdin holds.
func TestApprovalAsksOnlyWhereAPersonCanAnswer(t *testing.T) {
	for _, tc := range []struct {
		name           string
		stdin, stderr  bool
		approved, asks bool
	}{
		{"at a terminal", true, true, true, true},
		{"stdin piped", false, true, false, false},
		{"stderr to a log", true, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			g, errOut := ttyFactory(tc.stdin, false, tc.stderr, map[string]string{"SECUREKAPI_CACHE_DIR": cache})
			g.In = strings.NewReader("y\n")
			p, err := g.Approver().Prompt(&AccessFlags{}, false, "import")
			if err != nil {
				t.Fatal(err)
			}
			ok, err := p.Run(fleet(t))
			// The approvals go where the credential path reads them: the
			// cache dir's approvals file.
			_, statErr := os.Stat(binding.ApprovalsPathIn(cache))
			if err != nil || ok != tc.approved || (statErr == nil) != tc.approved {
				t.Fatalf("Run() = %v, %v; approvals file: %v\n%s", ok, err, statErr, errOut)
			}
			if asked := strings.Contains(errOut.String(), "[y/N]"); asked != tc.asks {
				t.Errorf("asked = %v, want %v:\n%s", asked, tc.asks, errOut)
			}
			if !tc.asks && !strings.Contains(errOut.String(), "Not approved: no terminal to ask on") {
				t.Errorf("the refusal does not say why and how to approve:\n%s", errOut)
			}
		})
	}
}
