package stack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A component that fails to start makes Start return an error, having
// stopped what it already started: here etcd is up when Dex exits at once.
func TestStartStopsWhatItStartedWhenAStepFails(t *testing.T) {
	tools := t.TempDir()
	// hydra starts before dex, for real, so there is something to stop.
	real := os.Getenv("SECUREKAPI_TOOLS_BIN")
	if real == "" {
		t.Fatal("SECUREKAPI_TOOLS_BIN is unset: run tools/build.sh and point it at the printed directory (make e2e does)")
	}
	for _, name := range []string{"hydra", "kubectl"} {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"dex", "kube-apiserver"} {
		script := "#!/bin/sh\necho " + name + " refuses to start >&2\nexit 3\n"
		if err := os.WriteFile(filepath.Join(tools, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{ToolsBin: tools, Dir: dir})
	if err == nil || s != nil {
		t.Fatalf("Start = %v, %v; want an error and no stack", s, err)
	}
	if !strings.Contains(err.Error(), "dex") || !strings.Contains(err.Error(), "refuses to start") {
		t.Fatalf("error %q should name dex and carry its log", err)
	}
	if pids := processesUnder(dir); len(pids) > 0 {
		t.Fatalf("processes still running from %s after a failed Start: %v", dir, pids)
	}
}

// processesUnder lists the pids whose command line mentions dir.
func processesUnder(dir string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}
