//go:build !unix

package kubeconfig

import "os"

// dieOf ends the process after an interrupt.
func dieOf(os.Signal) { os.Exit(1) }
