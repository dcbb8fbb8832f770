// Command securekapi is the full securekapi CLI: every command, the OIDC
// flows and the credential path's refresh and login. The small exec program
// kubectl-securekapi (the name kubectl and krew know) answers cached tokens
// itself and hands everything else over to this binary, found next to it.
// All behaviour lives in pkg/cmd; main only wires the process's standard
// streams and exit code.
package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/securekapi/securekapi/pkg/cmd"
	"github.com/securekapi/securekapi/pkg/handover"
)

func main() {
	program := invokedAs(os.Getenv(handover.Env), os.Args[0])
	// Our own children (kubectl run by `run`, and the exec plugin it calls)
	// are new invocations, not a loop.
	_ = os.Unsetenv(handover.Env)
	os.Exit(cmd.Execute(cmd.ProcessStreams(), program))
}

// invokedAs is the name the user ran: the small program's
// (kubectl-securekapi) when it handed this call over, which replaces
// argv[0] with our own path; else our own (securekapi).
func invokedAs(handedOverBy, argv0 string) string {
	name := argv0
	if handedOverBy != "" {
		name = handedOverBy
	}
	return strings.TrimSuffix(filepath.Base(name), ".exe")
}
