package doctor

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestDoctorColoursOnlyATerminal: the marks are coloured when stdout is a
// terminal, and plain text when it is a pipe or a file, or NO_COLOR is set,
// so `doctor | grep FAIL` and a saved report carry no escape codes.
func TestDoctorColoursOnlyATerminal(t *testing.T) {
	const red = "\x1b[31m[FAIL]\x1b[0m"
	for _, tc := range []struct {
		name   string
		tty    bool
		env    map[string]string
		colour bool
	}{
		{"terminal", true, nil, true},
		{"pipe", false, nil, false},
		{"terminal with NO_COLOR", true, map[string]string{"NO_COLOR": "1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := cmdtest.Factory(tc.env)
			g.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig") // missing: the first check fails
			g.StdoutIsTTY = tc.tty
			_ = cmdtest.Execute(NewCmdDoctor(g), "--quick")
			out := g.Out.(*bytes.Buffer).String()
			if !strings.Contains(out, "[FAIL]") {
				t.Fatalf("doctor printed no failed check:\n%s", out)
			}
			if coloured := strings.Contains(out, red); coloured != tc.colour {
				t.Errorf("coloured = %v, want %v:\n%q", coloured, tc.colour, out)
			}
			if !tc.colour && strings.Contains(out, "\x1b[") {
				t.Errorf("escape codes in plain output:\n%q", out)
			}
		})
	}
}

// TestDoctorEscapesWhatItQuotes: a check's detail quotes outside text (here
// the context asked for, which a kubeconfig may name); on the report it
// shows as visible escapes, and only doctor's own colours are escape codes.
func TestDoctorEscapesWhatItQuotes(t *testing.T) {
	g := cmdtest.Factory(nil)
	g.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig") // missing: the first check fails and names the context
	g.StdoutIsTTY = false
	_ = cmdtest.Execute(NewCmdDoctor(g), "--quick", "prod\x1b]0;owned\x07\x1b[2J")
	out := g.Out.(*bytes.Buffer).String()
	if !strings.Contains(out, `prod\x1b]0;owned\x07\x1b[2J`) {
		t.Fatalf("doctor does not show the path escaped:\n%q", out)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("doctor's report carries control characters raw:\n%q", out)
	}
}
