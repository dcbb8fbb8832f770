// Command kubectl-securekapi is the securekapi kubectl plugin and exec
// credential helper. All behaviour lives in pkg/cmd; main only wires the
// process's standard streams and exit code.
package main

import (
	"os"

	"github.com/securekapi/securekapi/pkg/cmd"
)

func main() {
	os.Exit(cmd.Execute(cmd.ProcessStreams()))
}
