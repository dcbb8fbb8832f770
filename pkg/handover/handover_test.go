package handover

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeExe(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func finder(self string, path ...string) Finder {
	return Finder{
		Executable: func() (string, error) { return self, nil },
		LookPath: func(name string) (string, error) {
			for _, dir := range path {
				if p := filepath.Join(dir, name); exists(p) {
					return p, nil
				}
			}
			return "", exec.ErrNotFound
		},
		Getenv: func(string) string { return "" },
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestFindsTheSiblingOfTheResolvedExecutable: krew puts a symlink on PATH
// that points into its store, where both binaries are; the full CLI is
// found there, not beside the link.
func TestFindsTheSiblingOfTheResolvedExecutable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs symlinks, which Windows gives only to administrators and developer mode (wine fakes them)")
	}
	dir := t.TempDir()
	store := filepath.Join(dir, "store", "securekapi", "v1")
	writeExe(t, filepath.Join(store, "kubectl-securekapi"))
	writeExe(t, filepath.Join(store, exeName(FullCLI)))
	link := filepath.Join(dir, "bin", "kubectl-securekapi")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(store, "kubectl-securekapi"), link); err != nil {
		t.Fatal(err)
	}
	writeExe(t, filepath.Join(dir, "path", exeName(FullCLI))) // an older one on PATH loses
	got, err := finder(link, filepath.Join(dir, "path")).Find()
	if err != nil || got != filepath.Join(store, exeName(FullCLI)) {
		t.Fatalf("Find = %q, %v; want the store's %s", got, err, exeName(FullCLI))
	}
}

func TestFallsBackToPath(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "a", "kubectl-securekapi")
	writeExe(t, self)
	writeExe(t, filepath.Join(dir, "path", exeName(FullCLI)))
	got, err := finder(self, filepath.Join(dir, "path")).Find()
	if err != nil || got != filepath.Join(dir, "path", exeName(FullCLI)) {
		t.Fatalf("Find = %q, %v", got, err)
	}
}

// TestRefusesItself: a `securekapi` that is the small program (a link, a
// copy under the wrong name) would exec itself forever.
func TestRefusesItself(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs symlinks, which Windows gives only to administrators and developer mode (wine fakes them)")
	}
	dir := t.TempDir()
	self := filepath.Join(dir, "bin", "kubectl-securekapi")
	writeExe(t, self)
	if err := os.Symlink(self, filepath.Join(dir, "bin", exeName(FullCLI))); err != nil {
		t.Fatal(err)
	}
	_, err := finder(self, filepath.Join(dir, "bin")).Find()
	var missing *ErrMissing
	if !errors.As(err, &missing) {
		t.Fatalf("Find = %v, want ErrMissing", err)
	}
}

func TestMissingSaysWhereItLookedAndHowToInstall(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "kubectl-securekapi")
	writeExe(t, self)
	_, err := finder(self).Find()
	if err == nil {
		t.Fatal("found a full CLI that does not exist")
	}
	for _, want := range []string{filepath.Join(dir, exeName(FullCLI)), "PATH", "kubectl krew", "go install github.com/securekapi/securekapi/cmd/..."} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
}

// TestRefusesASecondHandOver: a wrapper named securekapi that runs
// kubectl-securekapi again is a loop; the full CLI clears Env at start.
func TestRefusesASecondHandOver(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "kubectl-securekapi")
	writeExe(t, self)
	writeExe(t, filepath.Join(dir, exeName(FullCLI)))
	f := finder(self)
	f.Getenv = func(name string) string {
		if name == Env {
			return "/x/kubectl-securekapi"
		}
		return ""
	}
	if _, err := f.Find(); err == nil || !strings.Contains(err.Error(), "refusing to hand over again") {
		t.Fatalf("Find = %v, want a loop refusal", err)
	}
}

// TestInvokedAs: a hand-over replaces argv[0] with the next program's
// path, and names the caller in the hand-over variable.
func TestInvokedAs(t *testing.T) {
	for _, c := range []struct{ by, argv0, want string }{
		{"", "/usr/local/bin/securekapi", "securekapi"},
		{"", "securekapi.exe", "securekapi"},
		{"/home/u/.krew/bin/kubectl-securekapi", "/home/u/.krew/store/securekapi/v1/securekapi", "kubectl-securekapi"},
		{"kubectl-securekapi", "/home/u/.krew/store/securekapi/v1/securekapi-admin", "kubectl-securekapi"},
	} {
		if got := InvokedAs(c.by, c.argv0); got != c.want {
			t.Errorf("InvokedAs(%q, %q) = %q, want %q", c.by, c.argv0, got, c.want)
		}
	}
}

// TestFindsTheAdminProgramBesideTheFullCLI: `expose authn-config` finds
// securekapi-admin next to the full CLI, never the full CLI itself; when it
// is missing the error names it and how to reinstall; and a copy of the
// full CLI named securekapi-admin cannot loop.
func TestFindsTheAdminProgramBesideTheFullCLI(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, exeName(FullCLI))
	writeExe(t, full)
	f := finder(full)
	f.Program = Admin
	var missing *ErrMissing
	_, err := f.Find()
	if !errors.As(err, &missing) || missing.Program != Admin {
		t.Fatalf("Find = %v, want ErrMissing for %s", err, Admin)
	}
	for _, want := range []string{"securekapi-admin", "expose authn-config", filepath.Join(dir, exeName(Admin)), "kubectl krew upgrade securekapi"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	writeExe(t, filepath.Join(dir, exeName(Admin)))
	if got, err := f.Find(); err != nil || got != filepath.Join(dir, exeName(Admin)) {
		t.Fatalf("Find = %q, %v; want the sibling securekapi-admin", got, err)
	}
	f.Getenv = func(k string) string {
		if k == AdminEnv {
			return "kubectl-securekapi"
		}
		return ""
	}
	if _, err := f.Find(); err == nil || !strings.Contains(err.Error(), "refusing to hand over again") {
		t.Fatalf("second hand-over to %s: %v", Admin, err)
	}
}
