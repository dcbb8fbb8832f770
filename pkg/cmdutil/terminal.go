package cmdutil

import (
	"os"

	"golang.org/x/term"
)

// IsTerminal is the terminal check every command uses (through the
// Factory's StdinIsTTY and friends): a stream is a terminal when it is an
// *os.File whose descriptor is a tty. A character device is not enough
// (/dev/null is one), and a buffer never is.
func IsTerminal(stream any) bool {
	file, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
