//go:build unix

package kubeconfig

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// dieOf ends the process by sig, so the parent sees the usual status
// (130 for Ctrl-C in a shell).
func dieOf(sig os.Signal) {
	signal.Reset(sig)
	if s, ok := sig.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), s)
		time.Sleep(time.Second) // the signal ends the process meanwhile
	}
	os.Exit(1)
}
