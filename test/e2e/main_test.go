// Package e2e runs securekapi and the real kubectl against the real stack:
// etcd, kube-apiserver, Dex and HAProxy, started by package stack. There is
// no skip: a missing component fails the run, naming what to install.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// shared is the stack every test uses unless it needs one of its own.
var shared *stack.Stack

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{Progress: os.Stderr})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cannot start the stack: %v\n", err)
		return 1
	}
	shared = s
	code := m.Run()
	pids := s.Pids()
	s.Stop()
	// No process the stack started may outlive it.
	for name, pid := range pids {
		if stack.Alive(pid) {
			fmt.Fprintf(os.Stderr, "e2e: %s (pid %d) outlived the stack\n", name, pid)
			code = 1
		}
	}
	return code
}
