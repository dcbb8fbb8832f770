package cmdutil

import (
	"os"

	"golang.org/x/term"
)

// The terminal check, the one every command uses: a stream is a terminal
// when it is an *os.File whose descriptor is a tty. A character device is
// not enough (/dev/null is one), and a buffer never is. Tests set the
// answer (SetStdoutTTY and friends, as cli/cli's IOStreams does), so the
// terminal-only branches (the picker, the y/N prompt, colour, the login
// countdown and QR code) are driven without a pseudo-terminal.

// StdinIsTTY reports whether stdin is a terminal a person types on.
func (f *Factory) StdinIsTTY() bool { return f.stdinTTY.or(f.In) }

// StdoutIsTTY reports whether stdout is a terminal, not a pipe or a file.
func (f *Factory) StdoutIsTTY() bool { return f.stdoutTTY.or(f.Out) }

// StderrIsTTY reports whether stderr is a terminal, not a log or a file.
func (f *Factory) StderrIsTTY() bool { return f.stderrTTY.or(f.ErrOut) }

// SetStdinTTY makes StdinIsTTY answer isTTY, whatever stdin is.
func (f *Factory) SetStdinTTY(isTTY bool) { f.stdinTTY = ttyOverride{set: true, isTTY: isTTY} }

// SetStdoutTTY makes StdoutIsTTY answer isTTY, whatever stdout is.
func (f *Factory) SetStdoutTTY(isTTY bool) { f.stdoutTTY = ttyOverride{set: true, isTTY: isTTY} }

// SetStderrTTY makes StderrIsTTY answer isTTY, whatever stderr is.
func (f *Factory) SetStderrTTY(isTTY bool) { f.stderrTTY = ttyOverride{set: true, isTTY: isTTY} }

// CanPrompt reports whether a person can answer a question: stdin and
// stderr (where the question is asked) are both terminals.
func (f *Factory) CanPrompt() bool { return f.StdinIsTTY() && f.StderrIsTTY() }

// ttyOverride is a test's answer to "is this stream a terminal"; unset
// asks the stream itself.
type ttyOverride struct{ set, isTTY bool }

func (o ttyOverride) or(stream any) bool {
	if o.set {
		return o.isTTY
	}
	file, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
