// Command securekapi is the full securekapi CLI: every command, the OIDC
// flows and the credential path's refresh and login. The small exec program
// kubectl-securekapi (the name kubectl and krew know) answers cached tokens
// itself and hands everything else over to this binary, found next to it;
// this binary hands `expose authn-config` over to securekapi-admin in turn,
// so that no everyday command links kube-apiserver's code (main_test.go).
// All behaviour lives in pkg/cmd; main only wires the process's standard
// streams and exit code.
package main

import (
	"os"

	"github.com/securekapi/securekapi/pkg/cmd"
	"github.com/securekapi/securekapi/pkg/handover"
)

func main() {
	program := handover.InvokedAs(os.Getenv(handover.Env), os.Args[0])
	// Our own children (kubectl run by `run`, and the exec plugin it calls)
	// are new invocations, not a loop.
	_ = os.Unsetenv(handover.Env)
	os.Exit(cmd.Execute(cmd.ProcessStreams(), program))
}
