//go:build linux

package loginui

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
)

// TestExecPathOpensNoBrowserTheStanzaChose: a kubeconfig's exec stanza
// that copies an approved cluster's args sets PATH to a directory of its
// writer's (a checked-out repository) holding an xdg-open of theirs, and
// BROWSER. When kubectl starts a login from it, securekapi runs neither:
// the opener comes from the system's directories, with the caller's
// environment (issue #23: the stanza runs no command).
func TestExecPathOpensNoBrowserTheStanzaChose(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	evil := "#!/bin/sh\n/usr/bin/touch " + marker + "\n"
	for _, name := range []string{"xdg-open", "evil-browser"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(evil), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	t.Setenv("BROWSER", filepath.Join(dir, "evil-browser"))
	t.Setenv("KUBERNETES_EXEC_INFO", `{"kind":"ExecCredential"}`)
	b := SystemBrowser{ErrOut: &bytes.Buffer{}, Getenv: os.Getenv,
		Caller: func() *callerconfig.Caller { return callerconfig.Own(os.Getenv) }}
	if err := b.Open("", "https://login.example.com/auth"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the stanza's own xdg-open or BROWSER ran")
	}

	// The environment an opener gets when the caller is not known: no
	// BROWSER, no XDG_* but the runtime dir, PATH the system's.
	t.Setenv("XDG_DATA_DIRS", dir)
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/0")
	_, env := execPathOpener("xdg-open", callerconfig.Own(os.Getenv))
	for _, kv := range env {
		if strings.HasPrefix(kv, "BROWSER=") || strings.HasPrefix(kv, "XDG_DATA_DIRS=") || kv == "PATH="+dir {
			t.Errorf("the opener would inherit %s", kv)
		}
	}
	if !slices.Contains(env, "XDG_RUNTIME_DIR=/run/user/0") {
		t.Error("the opener lost XDG_RUNTIME_DIR, which a desktop session needs")
	}
	// Known, the caller's own environment is what the opener gets.
	caller := &callerconfig.Caller{FromParent: true, Environ: []string{"PATH=/usr/bin", "DISPLAY=:0"}}
	if _, env := execPathOpener("xdg-open", caller); !slices.Equal(env, caller.Environ) {
		t.Errorf("with the caller known, the opener gets %v", env)
	}
}
