// Command kubectl-securekapi is the securekapi kubectl plugin and exec
// credential helper as kubectl and krew know it: a small program that
// kubectl runs on every call. It answers a cached, usable token itself
// (pkg/credential/execplugin) and hands every other call, unchanged, to the
// full CLI, securekapi, installed next to it (pkg/handover): a refresh, a
// login, any other subcommand, completion. From a kubeconfig exec stanza
// (KUBERNETES_EXEC_INFO set) it runs only `credential`, and hands nothing
// else over (execplugin.CheckExecOnly).
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
	"github.com/securekapi/securekapi/pkg/credential/execplugin"
	"github.com/securekapi/securekapi/pkg/handover"
)

func main() {
	os.Exit(run(execplugin.Process{
		Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now,
		Caller: callerconfig.Parent,
	}, func() int {
		self, _ := os.Executable()
		return handover.Run(handover.Finder{Executable: os.Executable, LookPath: exec.LookPath, Getenv: os.Getenv}, os.Args, self)
	}))
}

// run answers p from the cache or hands it over, and returns the exit code.
// From a kubeconfig exec stanza (KUBERNETES_EXEC_INFO set) it runs only the
// credential command: any other is refused here, never handed over, so the
// full CLI's commands (shell, run, login, ...) are out of the stanza's reach.
func run(p execplugin.Process, handOver func() int) int {
	if err := execplugin.CheckExecOnly(p.Args, p.Getenv); err != nil {
		fmt.Fprintf(p.Stderr, "error: %v\n", err)
		return 1
	}
	answered, err := execplugin.Answer(p)
	if err != nil {
		fmt.Fprintf(p.Stderr, "error: %v\n", err)
		return 1
	}
	if answered {
		return 0
	}
	return handOver()
}
