package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// terminal is a real terminal: a private tmux server whose windows run
// bash in the session's environment. Tests type with send-keys and read
// the screen with capture-pane, as a person at the keyboard would.
type terminal struct {
	t    *testing.T
	sock string
	env  []string
}

// newTerminal starts tmux with one window, "main", running bash.
func newTerminal(t *testing.T, se *stack.Session) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: apt-get install -y tmux")
	}
	term := &terminal{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock"),
		env: append(se.Environ(), "SHELL=/bin/bash", "LANG=C.UTF-8", "TERM=xterm-256color", "PS1=$ ")}
	term.tmux("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-n", "main", "-x", "160", "-y", "40", "bash --norc --noprofile")
	t.Cleanup(func() { _, _ = term.run("kill-server") })
	return term
}

func (term *terminal) run(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-u", "-S", term.sock}, args...)...)
	cmd.Env = term.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (term *terminal) tmux(args ...string) string {
	term.t.Helper()
	out, err := term.run(args...)
	if err != nil {
		term.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return out
}

// newWindow opens another window running bash.
func (term *terminal) newWindow(name string) {
	term.t.Helper()
	term.tmux("new-window", "-d", "-t", "e2e", "-n", name, "bash --norc --noprofile")
}

// typeLine types text into window and presses Enter.
func (term *terminal) typeLine(window, text string) {
	term.t.Helper()
	term.tmux("send-keys", "-t", "e2e:"+window, "-l", text)
	term.tmux("send-keys", "-t", "e2e:"+window, "Enter")
}

// keys sends tmux key names (Down, Enter, Escape) to window.
func (term *terminal) keys(window string, keys ...string) {
	term.t.Helper()
	term.tmux(append([]string{"send-keys", "-t", "e2e:" + window}, keys...)...)
}

// screen is what window shows now.
func (term *terminal) screen(window string) string {
	term.t.Helper()
	return term.tmux("capture-pane", "-p", "-J", "-t", "e2e:"+window)
}

// waitFor waits until window shows want, and returns the screen.
func (term *terminal) waitFor(window, want string) string {
	term.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := term.screen(window)
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("window %s never showed %q; screen:\n%s", window, want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lineWith is the first screen line holding s, or "".
func lineWith(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
