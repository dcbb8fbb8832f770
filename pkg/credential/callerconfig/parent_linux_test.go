package callerconfig

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const parentHelperEnv = "SECUREKAPI_CALLERCONFIG_PARENT_HELPER"

// Parent reads the process that started this one as it was started: its
// arguments, its environment (not the child's own, which an exec stanza
// sets), the first entry for a name as its os.Getenv reads it, and its
// directory; an environment larger than the first read's buffer included.
// /proc shows a process's environment as it was at exec, so the test runs
// a helper as the caller, which runs a second one that calls Parent.
func TestParentIsTheProcessThatRanThisOne(t *testing.T) {
	self := []string{"-test.run=^TestParentIsTheProcessThatRanThisOne$"}
	switch os.Getenv(parentHelperEnv) {
	case "caller":
		cmd := exec.Command(os.Args[0], self...)
		cmd.Env = []string{parentHelperEnv + "=plugin", "HOME=/stanza-home"}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if cmd.Run() != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "plugin":
		c := Parent()
		if c == nil {
			os.Exit(3)
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{"args": c.Args, "home": c.Getenv("HOME"), "big": len(c.Getenv("BIG")),
			"helper": c.Getenv(parentHelperEnv), "dir": c.Dir, "environ": c.Environ})
		os.Exit(0)
	}
	dir := t.TempDir()
	big := strings.Repeat("x", 40<<10)
	// os.StartProcess, not os/exec, which keeps only the last HOME.
	env := []string{parentHelperEnv + "=caller", "HOME=/first", "BIG=" + big, "HOME=/second"}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := os.StartProcess(os.Args[0], append([]string{os.Args[0]}, append(self, "", "--kubeconfig", "/k")...),
		&os.ProcAttr{Dir: dir, Env: env, Files: []*os.File{nil, w, os.Stderr}})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	r.Close()
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("helper: %v, %v", st, err)
	}
	var got struct {
		Args, Environ     []string
		Home, Helper, Dir string
		Big               int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if want := append(self, "", "--kubeconfig", "/k"); !slices.Equal(got.Args, want) {
		t.Errorf("Args = %q, want %q", got.Args, want)
	}
	if got.Home != "/first" || got.Helper != "caller" || got.Big != len(big) || got.Dir != dir || !slices.Equal(got.Environ, env) {
		t.Errorf("Parent() read HOME %q, %s %q, BIG of %d bytes, dir %q, %d variables; want /first, caller, %d bytes, %q, %d",
			got.Home, parentHelperEnv, got.Helper, got.Big, got.Dir, len(got.Environ), len(big), dir, len(env))
	}
}

// BenchmarkParent reads the test's parent (the go command) from /proc, as
// the small program does on every kubectl call.
func BenchmarkParent(b *testing.B) {
	for b.Loop() {
		if c := Parent(); c == nil {
			b.Fatal("Parent() = nil")
		}
	}
}
