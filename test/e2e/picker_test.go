package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// currentContext reads the session kubeconfig's current-context.
func currentContext(t *testing.T, se *stack.Session) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(filepath.Join(se.Dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.CurrentContext
}

// sessionWithClusters registers the stack's endpoint under each name and
// runs `use` on each in turn, so the last one is current.
func sessionWithClusters(t *testing.T, names ...string) *stack.Session {
	t.Helper()
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range names {
		if err := se.AddCluster(ctx, name); err != nil {
			t.Fatal(err)
		}
		// Approved here, so that switching to it in the picker below asks
		// nothing more (use asks on a terminal for an unapproved cluster).
		if r := se.Securekapi(ctx, "use", name, "--approve"); r.Err != nil {
			t.Fatalf("use %s: %v\n%s", name, r.Err, r.Stderr)
		}
	}
	return se
}

// TestUsePicker: `kubectl securekapi use` with no name, typed in a real
// terminal (tmux), offers the registered clusters with the current one
// marked; arrows and Enter switch, typing filters, Esc changes nothing.
// Off a terminal, and with -o, it lists as before.
func TestUsePicker(t *testing.T) {
	se := sessionWithClusters(t, "prod-x", "e2e-b", "e2e")
	term := newTerminal(t, se)

	// Arrows: the cursor starts on the current cluster, e2e (the first: the
	// registry is sorted by name).
	term.typeLine("main", "kubectl securekapi use")
	screen := term.waitFor("main", "3/3")
	if l := lineWith(screen, "* e2e "); !strings.HasPrefix(l, "▶ * e2e ") || !strings.Contains(l, shared.EndpointURL) {
		t.Fatalf("the current cluster is not marked and under the cursor: %q\n%s", l, screen)
	}
	if l := lineWith(screen, "e2e-b"); !strings.HasPrefix(l, "    e2e-b") {
		t.Fatalf("e2e-b is not listed unmarked: %q\n%s", l, screen)
	}
	term.keys("main", "Down", "Down", "Up", "Enter")
	screen = term.waitFor("main", "Switched to e2e-b")
	if strings.Contains(screen, "3/3") {
		t.Errorf("the picker stayed on the screen after Enter:\n%s", screen)
	}
	if got := currentContext(t, se); got != "e2e-b" {
		t.Fatalf("after Down, Down, Up, Enter: current-context = %q, want e2e-b\n%s", got, screen)
	}

	// Typing filters; Enter takes the one match.
	term.typeLine("main", "clear")
	term.typeLine("main", "kubectl securekapi use")
	screen = term.waitFor("main", "3/3")
	if l := lineWith(screen, "* e2e-b"); !strings.HasPrefix(l, "▶ * e2e-b") {
		t.Fatalf("the mark did not follow the switch: %q\n%s", l, screen)
	}
	term.keys("main", "-l", "prd")
	screen = term.waitFor("main", "1/3")
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "e2e") && strings.Contains(l, shared.EndpointURL) {
			t.Fatalf("the filter prd still shows an e2e cluster:\n%s", screen)
		}
	}
	if l := lineWith(screen, "prod-x"); !strings.HasPrefix(l, "▶   prod-x") {
		t.Fatalf("prod-x is not the one match under the cursor: %q\n%s", l, screen)
	}
	term.keys("main", "Enter")
	term.waitFor("main", "Switched to prod-x")
	if got := currentContext(t, se); got != "prod-x" {
		t.Fatalf("after filtering prd: current-context = %q, want prod-x", got)
	}

	// Esc leaves everything as it was, with a non-zero exit.
	term.typeLine("main", "clear")
	term.typeLine("main", "kubectl securekapi use; echo exit=$?")
	term.waitFor("main", "3/3")
	term.keys("main", "Escape")
	screen = term.waitFor("main", "exit=1")
	if !strings.Contains(screen, "no cluster chosen; kubeconfig was not changed") {
		t.Errorf("Esc did not say nothing changed:\n%s", screen)
	}
	if got := currentContext(t, se); got != "prod-x" {
		t.Fatalf("after Esc: current-context = %q, want prod-x", got)
	}

	// -o at a terminal lists.
	term.typeLine("main", "clear")
	term.typeLine("main", "kubectl securekapi use -o yaml; echo exit=$?")
	screen = term.waitFor("main", "exit=0")
	if !strings.Contains(screen, "name: e2e-b") || strings.Contains(screen, "3/3") {
		t.Errorf("use -o yaml at a terminal did not list:\n%s", screen)
	}

	// Every stream on /dev/null (a script, cron): a character device, but
	// no terminal, so no picker: it lists (into /dev/null) and exits 0.
	term.typeLine("main", "clear")
	term.typeLine("main", `kubectl securekapi use </dev/null >/dev/null 2>/dev/null; echo "rc=$? end$((1+1))"`)
	screen = term.waitFor("main", "end2")
	if !strings.Contains(screen, "rc=0 end2") {
		t.Errorf("use on /dev/null failed (the picker needs a terminal):\n%s", screen)
	}
	if got := currentContext(t, se); got != "prod-x" {
		t.Fatalf("use on /dev/null: current-context = %q, want prod-x", got)
	}

	// Off a terminal it lists, as before.
	r := se.Securekapi(context.Background(), "use")
	if r.Err != nil || !strings.Contains(r.Stdout, "CURRENT") || !strings.Contains(r.Stdout, "*  ") {
		t.Fatalf("use off a terminal: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	if l := lineWith(r.Stdout, "prod-x"); !strings.HasPrefix(l, "*") {
		t.Errorf("the list does not mark prod-x current: %q\n%s", l, r.Stdout)
	}
}

// TestTypedAheadInputSurvivesTheCLI: what a person types while a command
// runs belongs to what runs next. The full CLI once linked bubbletea v1,
// whose package init asked the terminal for its colours on every command
// and read the answer from the terminal, eating keys typed ahead.
func TestTypedAheadInputSurvivesTheCLI(t *testing.T) {
	se := sessionWithClusters(t, "e2e")
	term := newTerminal(t, se)
	// The echo prints what read got in capitals, so neither the command
	// line nor the typed text on the screen can satisfy the wait.
	// TERM as a desktop terminal sets it: inside tmux it says screen or
	// tmux, for which terminal libraries skip their queries.
	term.typeLine("main", `export TERM=xterm-256color; sleep 2; kubectl securekapi version; read -r -t 10 line; echo "got:${line^^}:END$((1+1))"`)
	// Typed while sleep runs: it waits in the terminal's input queue.
	term.typeLine("main", "typed-ahead")
	screen := term.waitFor("main", "END2")
	if !strings.Contains(screen, "got:TYPED-AHEAD:END2") {
		t.Fatalf("the line typed ahead did not reach the next reader:\n%s", screen)
	}
}
