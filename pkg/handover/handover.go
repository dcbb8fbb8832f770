// Package handover lets the small exec program (kubectl-securekapi) pass a
// call it cannot answer to the full CLI (securekapi) unchanged: the same
// arguments, environment and standard streams, and the full CLI's exit code.
// On unix the process image is replaced, so kubectl sees one process.
//
// The full CLI is looked for next to the small program's resolved
// executable (krew and `make build` put both there), then on PATH. A
// candidate that is the small program itself, or a second hand-over within
// one call, is refused, so a misnamed link cannot loop.
package handover

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// FullCLI is the full CLI's name, without kubectl's plugin prefix so that
// kubectl's plugin discovery does not list securekapi twice.
const FullCLI = "securekapi"

// Env marks a process started by a hand-over; it holds the small program's
// path. The full CLI clears it at start, so only a loop (something named
// securekapi that runs kubectl-securekapi again) finds it set.
const Env = "SECUREKAPI_HANDED_OVER_BY"

// Finder locates the full CLI. Every outside fact is a field, so tests
// drive it.
type Finder struct {
	Executable func() (string, error)       // os.Executable
	LookPath   func(string) (string, error) // exec.LookPath
	Getenv     func(string) string
}

// ErrMissing says where the full CLI was looked for and how to install it.
type ErrMissing struct{ Looked []string }

func (e *ErrMissing) Error() string {
	return fmt.Sprintf("the full securekapi CLI (%s) is missing, which kubectl-securekapi needs for everything but a cached token: looked in %s; "+
		"reinstall both binaries with `kubectl krew upgrade securekapi` (or `kubectl krew install securekapi`), or `go install github.com/securekapi/securekapi/cmd/...@VERSION`",
		exeName(), strings.Join(e.Looked, " and "))
}

// Find returns the full CLI's path.
func (f Finder) Find() (string, error) {
	if by := f.Getenv(Env); by != "" {
		return "", fmt.Errorf("refusing to hand over again: %s handed this call to a %s that ran kubectl-securekapi in turn; make %s on PATH the full securekapi CLI", by, FullCLI, FullCLI)
	}
	self, err := f.Executable()
	if err != nil {
		return "", fmt.Errorf("find the full securekapi CLI: cannot resolve this program's path: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	var looked []string
	sibling := filepath.Join(filepath.Dir(self), exeName())
	looked = append(looked, sibling)
	if usable(sibling, self) {
		return sibling, nil
	}
	looked = append(looked, "PATH")
	if p, err := f.LookPath(exeName()); err == nil && usable(p, self) {
		return p, nil
	}
	return "", &ErrMissing{Looked: looked}
}

// usable: candidate exists, is a regular file and is not self.
func usable(candidate, self string) bool {
	ci, err := os.Stat(candidate)
	if err != nil || !ci.Mode().IsRegular() {
		return false
	}
	si, err := os.Stat(self)
	return err != nil || !os.SameFile(ci, si)
}

func exeName() string {
	if runtime.GOOS == "windows" {
		return FullCLI + ".exe"
	}
	return FullCLI
}

// Run hands argv (argv[0] is replaced by the full CLI's path) over to the
// full CLI and returns the exit code to exit with. On unix it returns only
// when the hand-over failed.
func Run(f Finder, argv []string, self string) int {
	path, err := f.Find()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	env := append(os.Environ(), Env+"="+self)
	code, err := run(path, append([]string{path}, argv[1:]...), env)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: hand over to the full securekapi CLI %s: %v\n", path, err)
		return 1
	}
	return code
}
