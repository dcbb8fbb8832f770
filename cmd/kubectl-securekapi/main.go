// Command kubectl-securekapi is the securekapi kubectl plugin and exec
// credential helper as kubectl and krew know it: a small program that
// kubectl runs on every call. It answers a cached, usable token itself
// (pkg/credential/fastpath) and hands every other call, unchanged, to the
// full CLI, securekapi, installed next to it (pkg/handover): a refresh, a
// login, any other subcommand, completion.
//
// It links none of cobra, client-go, apimachinery, go-oidc or oauth2, whose
// package init alone would cost every kubectl call more than the Go
// process itself; main_test.go fails if it starts to.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	// First: the rest of package init runs on one P.
	_ "github.com/securekapi/securekapi/cmd/kubectl-securekapi/internal/oneproc"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/fastpath"
	"github.com/securekapi/securekapi/pkg/handover"
)

func main() {
	answered, err := fastpath.Answer(fastpath.Process{
		Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now,
		Caller: callerconfig.Parent,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	if answered {
		return
	}
	self, _ := os.Executable()
	os.Exit(handover.Run(handover.Finder{Executable: os.Executable, LookPath: exec.LookPath, Getenv: os.Getenv}, os.Args, self))
}
