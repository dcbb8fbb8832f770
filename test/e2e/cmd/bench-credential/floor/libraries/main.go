// Command libraries is a start-up floor for bench-credential: it links the
// libraries securekapi imports, without the k8s.io ones (see package libs),
// runs their package init, prints a fixed line and exits. No securekapi
// code runs, so no credential path can start faster than this.
package main

import (
	"os"

	_ "github.com/securekapi/securekapi/test/e2e/cmd/bench-credential/floor/libs"
)

func main() { _, _ = os.Stdout.WriteString("{}\n") }
