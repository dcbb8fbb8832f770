package cmd

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestTheHouseHasNoUpwardArrow holds the layout README's Architecture
// section describes: commands sit above the packages as wiring, so no
// package below pkg/cmd imports a command, nor pkg/cmdutil (whose Factory
// is the commands' wiring: a package takes the streams, clock or stores it
// uses as values, never the Factory); a command imports no other command
// (each one is read, tested and changed on its own); and every package says
// its one job in a package comment.
func TestTheHouseHasNoUpwardArrow(t *testing.T) {
	needGo(t)
	const module = "github.com/securekapi/securekapi/"
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Doc", module+"pkg/...", module+"cmd/...", module+"internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// A subcommand's package may be wired in by its parent's.
	subcommands := map[string]string{"pkg/cmd/exposecmd": "pkg/cmd/authnconfigcmd"}
	commandOf := func(path string) string { // "" outside pkg/cmd/<name>
		rest, ok := strings.CutPrefix(path, module+"pkg/cmd/")
		if !ok {
			return ""
		}
		name, _, _ := strings.Cut(rest, "/")
		return "pkg/cmd/" + name
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath, Doc string
			Imports         []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		if p.Doc == "" {
			t.Errorf("%s has no package comment saying its job", p.ImportPath)
		}
		// The mains (cmd/...) sit above everything.
		inCmd := p.ImportPath == module+"pkg/cmd" || commandOf(p.ImportPath) != "" || strings.HasPrefix(p.ImportPath, module+"cmd/")
		from := commandOf(p.ImportPath)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := commandOf(imp)
			switch {
			case strings.HasPrefix(imp, module+"cmd/") && !strings.HasPrefix(p.ImportPath, module+"cmd/"):
				t.Errorf("%s imports the main %s", p.ImportPath, imp)
			case !inCmd && (to != "" || imp == module+"pkg/cmd"):
				t.Errorf("%s imports the command %s: packages sit below the commands", p.ImportPath, imp)
			case !inCmd && p.ImportPath != module+"pkg/cmdutil" && imp == module+"pkg/cmdutil":
				t.Errorf("%s imports pkg/cmdutil: only commands take the Factory; pass the package what it uses", p.ImportPath)
			case from != "" && to != "" && to != from && subcommands[from] != to:
				t.Errorf("command %s imports command %s: share through pkg/cmdutil or a package instead", from, to)
			}
		}
	}
	if seen < 30 {
		t.Fatalf("go list listed only %d packages", seen)
	}
}

// TestNoProgramLinksTestFixtures: the test certificates, unsigned tokens and
// command fixtures (internal/testpki, internal/testjwt, pkg/cmd/cmdtest)
// serve tests only; a program that linked them would ship throwaway CAs.
func TestNoProgramLinksTestFixtures(t *testing.T) {
	needGo(t)
	const module = "github.com/securekapi/securekapi/"
	out, err := exec.Command("go", "list", "-deps", module+"cmd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, module+"pkg/trust") {
		t.Fatalf("go list -deps listed only %q", deps)
	}
	for _, fixture := range []string{module + "internal/testpki", module + "internal/testjwt", module + "pkg/cmd/cmdtest"} {
		if slices.Contains(deps, fixture) {
			t.Errorf("a program under cmd/ links the test fixtures %s", fixture)
		}
	}
}

// needGo skips a test that runs the go command where there is none: the
// Windows run under wine has no go.exe. These check the build, the same
// on every OS, and Linux CI runs them.
func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil && runtime.GOOS == "windows" {
		t.Skip("runs the go command, which this Windows machine lacks")
	}
}
