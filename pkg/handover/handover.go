// Package handover lets one of securekapi's programs pass a call it does
// not answer to the next one unchanged: the same arguments, environment
// and standard streams, and that program's exit code. On unix the process
// image is replaced, so kubectl sees one process. The small exec program
// (kubectl-securekapi) hands everything but a cached token to the full CLI
// (securekapi); the full CLI hands `expose authn-config` to the platform
// owner's program (securekapi-admin), the only one that links
// kube-apiserver's code.
//
// A program is looked for next to the caller's resolved executable (krew
// and `make build` put all three there), then on PATH. A candidate that is
// the caller itself, or a second hand-over to the same program within one
// call, is refused, so a misnamed link cannot loop.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
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

// Admin is the platform owner's program: the commands that build, check
// and judge with kube-apiserver's own code (`expose authn-config`), whose
// libraries (grpc, OpenTelemetry, Prometheus) every everyday command would
// otherwise load.
const Admin = "securekapi-admin"

// Env marks a process started by a hand-over; it holds the small program's
// path. The full CLI clears it at start, so only a loop (something named
// securekapi that runs kubectl-securekapi again) finds it set.
const Env = "SECUREKAPI_HANDED_OVER_BY"

// AdminEnv marks a process started by a hand-over to Admin; it holds the
// name the user invoked (kubectl-securekapi or securekapi), which
// securekapi-admin's help and errors show. securekapi-admin hands nothing
// over, so only a loop (a copy of the full CLI named securekapi-admin)
// finds it set where it is checked.
const AdminEnv = "SECUREKAPI_ADMIN_HANDED_OVER_BY"

// Finder locates a program. Every outside fact is a field, so tests drive
// it.
type Finder struct {
	// Program is the one to find, without ".exe": FullCLI when empty, or
	// Admin.
	Program    string
	Executable func() (string, error)       // os.Executable
	LookPath   func(string) (string, error) // exec.LookPath
	Getenv     func(string) string
}

// ErrMissing says where a program was looked for and how to install it.
type ErrMissing struct {
	Program string // FullCLI or Admin
	Looked  []string
}

const reinstall = "reinstall securekapi's binaries with `kubectl krew upgrade securekapi` (or `kubectl krew install securekapi`), or `go install github.com/securekapi/securekapi/cmd/...@VERSION`"

func (e *ErrMissing) Error() string {
	what := "the full securekapi CLI (%s) is missing, which kubectl-securekapi needs for everything but a cached token"
	if e.Program == Admin {
		what = "securekapi's platform owner program (%s) is missing, which `expose authn-config` runs in"
	}
	return fmt.Sprintf(what+": looked in %s; "+reinstall, exeName(e.Program), strings.Join(e.Looked, " and "))
}

func (f Finder) program() string {
	if f.Program == "" {
		return FullCLI
	}
	return f.Program
}

// Find returns the program's path.
func (f Finder) Find() (string, error) {
	program := f.program()
	if program == Admin {
		if by := f.Getenv(AdminEnv); by != "" {
			return "", fmt.Errorf("refusing to hand over again: %s handed `expose authn-config` to a %s that handed it on in turn; make %s next to %s (or on PATH) the real %s", by, Admin, Admin, FullCLI, Admin)
		}
	} else if by := f.Getenv(Env); by != "" {
		return "", fmt.Errorf("refusing to hand over again: %s handed this call to a %s that ran kubectl-securekapi in turn; make %s on PATH the full securekapi CLI", by, FullCLI, FullCLI)
	}
	self, err := f.Executable()
	if err != nil {
		return "", fmt.Errorf("find %s: cannot resolve this program's path: %w", program, err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	var looked []string
	sibling := filepath.Join(filepath.Dir(self), exeName(program))
	looked = append(looked, sibling)
	if usable(sibling, self) {
		return sibling, nil
	}
	looked = append(looked, "PATH")
	if p, err := f.LookPath(exeName(program)); err == nil && usable(p, self) {
		return p, nil
	}
	return "", &ErrMissing{Program: program, Looked: looked}
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

func exeName(program string) string {
	if program == "" {
		program = FullCLI
	}
	if runtime.GOOS == "windows" {
		return program + ".exe"
	}
	return program
}

// Run hands argv (argv[0] is replaced by the program's path) over to the
// program f finds and returns the exit code to exit with; errors go to
// stderr. On unix it returns only when the hand-over failed.
func Run(f Finder, argv []string, by string) int {
	code, err := Exec(f, argv, by)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	return code
}

// Exec is Run returning its error: by (the caller's path or the name the
// user invoked) goes in the program's hand-over variable.
func Exec(f Finder, argv []string, by string) (int, error) {
	path, err := f.Find()
	if err != nil {
		return 1, err
	}
	mark := Env
	if f.program() == Admin {
		mark = AdminEnv
	}
	env := append(os.Environ(), mark+"="+by)
	code, err := run(path, append([]string{path}, argv[1:]...), env)
	if err != nil {
		return 1, fmt.Errorf("hand over to %s: %w", path, err)
	}
	return code, nil
}

// InvokedAs is the name the user ran: the caller's when a hand-over
// started this process (handedOverBy, its hand-over variable), since the
// hand-over replaces argv[0] with this program's path; else argv0's.
func InvokedAs(handedOverBy, argv0 string) string {
	name := argv0
	if handedOverBy != "" {
		name = handedOverBy
	}
	return strings.TrimSuffix(filepath.Base(name), ".exe")
}
