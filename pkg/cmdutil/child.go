package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// RunChild runs argv on the streams with env and returns its exit code as
// an ExitError (128+N when a signal ended it), so the caller's deferred
// cleanup always runs. Ctrl-C reaches the child from the terminal; we wait
// for it to finish. SIGTERM (from a CI runner, say) and SIGHUP (the
// terminal closed) are passed on to it.
func RunChild(streams genericiooptions.IOStreams, argv []string, env []string) error {
	child := exec.Command(argv[0], argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = streams.In, streams.Out, streams.ErrOut
	child.Env = env
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	if err := child.Start(); err != nil {
		signal.Stop(signals)
		return fmt.Errorf("run %s: %w", argv[0], err)
	}
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for s := range signals {
			if s != os.Interrupt {
				_ = child.Process.Signal(s)
			}
		}
	}()
	err := child.Wait()
	signal.Stop(signals)
	close(signals)
	<-forwarded
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code := exit.ExitCode()
		if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
			code = 128 + int(status.Signal())
		}
		return &ExitError{Code: code}
	}
	return err
}
