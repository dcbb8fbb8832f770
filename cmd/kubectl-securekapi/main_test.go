package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSmallProgramLinksNoHeavyLibrary: Go runs the package init of every
// linked package before main, whatever the call, so one import of these
// costs every kubectl call (apimachinery's init alone is 0.7x a Go process).
func TestSmallProgramLinksNoHeavyLibrary(t *testing.T) {
	needGo(t)
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list -deps listed only %q", deps)
	}
	forbidden := []string{
		"github.com/spf13/cobra", "k8s.io/client-go", "k8s.io/apimachinery", "k8s.io/",
		"sigs.k8s.io/", "github.com/coreos/go-oidc", "golang.org/x/oauth2", "github.com/int128/oauth2cli",
	}
	var found []string
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				found = append(found, d)
				break
			}
		}
	}
	// Exact names: the fast path checks pins and PEM CA data, it never
	// dials, so TLS (whose init and size every call would pay) and the
	// chain fetching package trust stay with the full CLI; it finds a
	// certificate's key without crypto/x509 (pkg/trust/pinning), whose
	// init and parse were a tenth of the small program's page faults.
	for _, f := range []string{"crypto/tls", "net/http", "crypto/x509", "github.com/securekapi/securekapi/pkg/trust"} {
		if contains(deps, f) {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		t.Errorf("cmd/kubectl-securekapi links %q; keep it to the light packages (pkg/credential/fastpath, pkg/trust/pinning) and hand the rest over to the full CLI", found)
	}
	// What it must link: the one implementation of each rule the full CLI
	// also uses, not a copy.
	for _, want := range []string{
		"github.com/securekapi/securekapi/pkg/credential/access",
		"github.com/securekapi/securekapi/pkg/credential/binding",
		"github.com/securekapi/securekapi/pkg/credential/cachedtoken",
		"github.com/securekapi/securekapi/pkg/credential/execinfo",
		"github.com/securekapi/securekapi/pkg/credential/tokencache",
		"github.com/securekapi/securekapi/pkg/trust/pinning",
	} {
		if !contains(deps, want) {
			t.Errorf("cmd/kubectl-securekapi does not link %s", want)
		}
	}
}

// TestSmallProgramLinksNothingNew holds the small program to the packages
// outside the standard library it links today (testdata/deps-linux.txt):
// a package that creeps in through an innocent import runs its init on
// every kubectl call, and no test of behaviour would notice. The standard
// library's heavy packages are TestSmallProgramLinksNoHeavyLibrary's.
func TestSmallProgramLinksNothingNew(t *testing.T) {
	needGo(t)
	golden, err := os.ReadFile(filepath.Join("testdata", "deps-linux.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, line := range strings.Split(string(golden), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			want[line] = true
		}
	}
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if first, _, _ := strings.Cut(dep, "/"); !strings.Contains(first, ".") {
			continue // the standard library
		}
		if !want[dep] {
			t.Errorf("cmd/kubectl-securekapi now links %s: its init would run on every kubectl call; keep it out of the fast path's imports, or measure the cost (BENCHMARKS.md) and add it to testdata/deps-linux.txt", dep)
		}
		delete(want, dep)
	}
	for dep := range want {
		t.Errorf("cmd/kubectl-securekapi no longer links %s: remove it from testdata/deps-linux.txt so the list stays the floor", dep)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOneProcInitializesFirst: internal/oneproc saves page faults only if
// its init runs before the packages that allocate, so it must come before
// os (whose init is the first to allocate much) in Go's init order.
func TestOneProcInitializesFirst(t *testing.T) {
	needGo(t)
	bin := filepath.Join(t.TempDir(), "kubectl-securekapi")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "PATH=/nonexistent")
	out, _ := cmd.CombinedOutput() // the hand-over fails: no full CLI next to it
	var order []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order = append(order, f[1])
		}
	}
	at := func(pkg string) int {
		for i, p := range order {
			if p == pkg {
				return i
			}
		}
		t.Fatalf("no init of %s in the trace:\n%s", pkg, out)
		return -1
	}
	if at("github.com/securekapi/securekapi/cmd/kubectl-securekapi/internal/oneproc") > at("os") {
		t.Errorf("internal/oneproc initializes after os; init order:\n%s", strings.Join(order, "\n"))
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
