// Package loginui is what a person sees and does during a login: the
// browser that opens the login page (the system's opener, or
// --browser-command), the device code with its QR code, the countdown while
// the person acts, and the prompt that approves clusters to receive the
// login. It takes the streams, a browser and a clock as values, so a test
// drives every branch (a terminal or a log, yes, no or EOF, a browser that
// fails) without a terminal, a browser or a command.
package loginui

import (
	"io"
	"time"
)

// IO is where a login talks to the person: the streams, and whether stdin
// and stderr are terminals (the command layer asks the streams; a test
// says). Nothing here writes to stdout, which may carry an ExecCredential.
type IO struct {
	In     io.Reader
	ErrOut io.Writer
	// StdinTTY and StderrTTY: the stream is a terminal a person uses.
	StdinTTY, StderrTTY bool
}

// CanPrompt reports whether a person can answer a question: stdin and
// stderr (where the question is asked) are both terminals.
func (s IO) CanPrompt() bool { return s.StdinTTY && s.StderrTTY }

// clock is now, else the system clock.
func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
