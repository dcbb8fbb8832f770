package benchkit

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// Run is a benchmark program's stack and one user session on it.
type Run struct {
	Stack   *stack.Stack
	Session *stack.Session
	// Dir is the session's directory, removed by Stop.
	Dir string

	program string
	pids    map[string]int
}

// StartRun starts the e2e stack (within 3 minutes) and a session for
// stack.Reader in a new temporary directory. program names the benchmark in
// messages.
func StartRun(ctx context.Context, program string, opts stack.Options) (*Run, error) {
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if opts.Progress == nil {
		opts.Progress = os.Stderr
	}
	s, err := stack.Start(startCtx, opts)
	if err != nil {
		return nil, err
	}
	r := &Run{Stack: s, program: program, pids: s.Pids()}
	if r.Dir, err = os.MkdirTemp("", "securekapi-"+program+"-"); err != nil {
		r.Stop()
		return nil, err
	}
	if r.Session, err = s.NewSession(r.Dir, "", stack.Reader); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// Stop ends the stack, removes the session directory and reports on stderr
// any stack process that outlived it.
func (r *Run) Stop() {
	r.Stack.Stop()
	if r.Dir != "" {
		_ = os.RemoveAll(r.Dir)
	}
	for name, pid := range r.pids {
		if stack.Alive(pid) {
			fmt.Fprintf(os.Stderr, "%s: %s (pid %d) outlived the stack\n", r.program, name, pid)
		}
	}
}
