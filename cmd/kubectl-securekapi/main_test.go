package main

import (
	"errors"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/execplugin"
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
		t.Errorf("cmd/kubectl-securekapi links %q; keep it to the light packages (pkg/credential/execplugin, pkg/trust/pinning) and hand the rest over to the full CLI", found)
	}
	// What it must link: the one implementation of each rule the full CLI
	// also uses, not a copy.
	for _, want := range []string{
		"github.com/securekapi/securekapi/pkg/credential/access",
		"github.com/securekapi/securekapi/pkg/credential/binding",
		"github.com/securekapi/securekapi/pkg/credential/token",
		"github.com/securekapi/securekapi/pkg/credential/tokenstore",
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

// TestLightPackagesSayTheyAre: a package of this module the small program
// links says "[light]" in its package comment, and one that says it is
// linked, so whoever edits a package sees that it runs on every kubectl
// call (issue #24: the mark, not the package boundary, says what the small
// program may link).
func TestLightPackagesSayTheyAre(t *testing.T) {
	needGo(t)
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const module = "github.com/securekapi/securekapi/pkg/"
	linked := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, module) {
			linked[p] = true
		}
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{.Dir}}", "../../pkg/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, _ := strings.Cut(line, "\t")
		marked := packageDocSays(t, dir, "[light]")
		switch {
		case linked[path] && !marked:
			t.Errorf("%s is linked by the small program but its package comment does not say [light]", path)
		case !linked[path] && marked:
			t.Errorf("%s says [light] but the small program does not link it: drop the mark, or it was meant to stay light", path)
		}
	}
}

// packageDocSays reports whether the package comment in dir holds text.
func packageDocSays(t *testing.T, dir, text string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if parsed.Doc != nil && strings.Contains(parsed.Doc.Text(), text) {
			return true
		}
	}
	return false
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

// TestExecStanzaRunsOnlyCredential: from a kubeconfig exec stanza
// (KUBERNETES_EXEC_INFO set) the small program refuses every command but
// credential and hands none of them over, so a stanza whose args are
// `shell NAME -- sh -c ...` never reaches the full CLI's shell. Without
// KUBERNETES_EXEC_INFO (a person typing) the same commands are handed over.
func TestExecStanzaRunsOnlyCredential(t *testing.T) {
	hostile := [][]string{
		{"shell", "prod", "--", "sh", "-c", "touch /tmp/pwned"},
		{"run", "prod", "--", "sh", "-c", "touch /tmp/pwned"},
		{"login", "prod"}, {"logout", "--all"}, {"use", "prod"}, {"add", "evil", "--server", "https://evil.example"},
		{"version"}, {"-v", "9", "shell", "prod"}, {},
	}
	for _, args := range hostile {
		for _, info := range []string{`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`, ""} {
			var out, errOut strings.Builder
			handedOver := false
			code := run(execplugin.Process{Args: args, Stdout: &out, Stderr: &errOut, Now: time.Now,
				Getenv: func(k string) string {
					if k == "KUBERNETES_EXEC_INFO" {
						return info
					}
					return ""
				}}, func() int { handedOver = true; return 0 })
			if info == "" {
				if !handedOver {
					t.Errorf("%q typed by a person was not handed over: code %d, stderr %q", args, code, errOut.String())
				}
				continue
			}
			if handedOver || code == 0 || out.Len() > 0 {
				t.Errorf("%q under KUBERNETES_EXEC_INFO: handed over %v, code %d, stdout %q", args, handedOver, code, out.String())
			}
			if !strings.Contains(errOut.String(), "refusing") || !strings.Contains(errOut.String(), "kubectl securekapi use NAME") {
				t.Errorf("%q under KUBERNETES_EXEC_INFO: stderr %q does not say why and what to run", args, errOut.String())
			}
		}
	}
	// credential itself still goes on: no cache here, so to the full CLI.
	handedOver := false
	run(execplugin.Process{Args: []string{"credential"}, Stdout: io.Discard, Stderr: io.Discard, Now: time.Now,
		Getenv: func(k string) string {
			if k == "KUBERNETES_EXEC_INFO" {
				return `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`
			}
			return ""
		}}, func() int { handedOver = true; return 0 })
	if !handedOver {
		t.Error("credential with nothing cached was not handed over to the full CLI")
	}
}

// TestExecStanzaShellRunsNothingThroughBothPrograms builds both programs
// side by side, as krew installs them, and runs the small one as kubectl
// would for the stanza `[shell, NAME, --, sh, -c, 'touch MARKER']`, then the
// full CLI itself with the same args (a kuberc allowlist may name it too).
// Neither runs the command, and both say why.
func TestExecStanzaShellRunsNothingThroughBothPrograms(t *testing.T) {
	needGo(t)
	if runtime.GOOS == "windows" {
		t.Skip("the stanza's command is sh, which Windows lacks; TestExecStanzaRunsOnlyCredential holds the rule there")
	}
	dir := t.TempDir()
	for _, pkg := range []string{".", "../securekapi"} {
		if out, err := exec.Command("go", "build", "-o", dir+"/", pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	marker := filepath.Join(dir, "MARKER")
	home := t.TempDir()
	for _, program := range []string{"kubectl-securekapi", "securekapi"} {
		cmd := exec.Command(filepath.Join(dir, program), "shell", "prod", "--", "sh", "-c", "touch "+marker)
		cmd.Env = []string{"HOME=" + home, "PATH=" + dir + ":/usr/bin:/bin", "SECUREKAPI_CACHE_DIR=" + filepath.Join(home, "cache"),
			`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`}
		out, err := cmd.Output()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || len(out) > 0 {
			t.Fatalf("%s shell under KUBERNETES_EXEC_INFO: err %v, stdout %q; want a refusal", program, err, out)
		}
		if stderr := string(exit.Stderr); !strings.Contains(stderr, `refusing "shell" from a kubeconfig exec stanza`) {
			t.Errorf("%s: stderr %q", program, stderr)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s ran the stanza's command", program)
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
