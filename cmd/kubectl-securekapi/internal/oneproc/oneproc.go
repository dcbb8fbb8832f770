// Package oneproc runs the small exec program on one P (GOMAXPROCS=1) from
// the start of package init, because on the exec hot path a second P costs
// more than it gives. The program does one short sequential job, but the Go
// runtime starts with a P per CPU, and goroutines that run on the second P
// (the runtime's own, the keyring call's) allocate from that P's own spans:
// fresh pages, each a page fault, and page faults are most of a process's
// start-up cost on a VM (measured on the 2-vCPU Firecracker VM of
// BENCHMARKS.md: 26 fewer page faults of about 290 per call).
//
// It imports only runtime, so Go initializes it among the first packages
// (packages are initialized in import path order as soon as their imports
// are); main_test.go checks that it runs before os, and that the program
// runs with GOMAXPROCS 1. Setting it in main instead costs more than it
// saves: by then the packages' init has already used both Ps.
package oneproc

import "runtime"

func init() { runtime.GOMAXPROCS(1) }
