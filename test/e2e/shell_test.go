package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// TestShell: `shell NAME` gives a shell (or one command) whose kubectl
// works on NAME through a private kubeconfig, with SECUREKAPI_CLUSTER set,
// leaving the user's current-context alone; two terminals work on two
// clusters at once; the private file is gone after exit, also when the
// child or the terminal is killed.
func TestShell(t *testing.T) {
	se := sessionWithClusters(t, "e2e-b", "e2e")
	browserLogin(t, se)
	if r := se.Securekapi(context.Background(), "login", "e2e-b", "--browser-command", se.BrowserCommand()); r.Err != nil {
		t.Fatalf("login e2e-b: %v\n%s", r.Err, r.Stderr)
	}
	t.Run("command", func(t *testing.T) { testShellCommand(t, se) })
	t.Run("killed", func(t *testing.T) { testShellKilled(t, se) })
	t.Run("two terminals", func(t *testing.T) { testShellTwoTerminals(t, se) })
}

func assertGone(t *testing.T, path, after string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("private kubeconfig %s still there after %s: %v", path, after, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("private kubeconfig dir %s still there after %s: %v", filepath.Dir(path), after, err)
	}
}

func testShellCommand(t *testing.T, se *stack.Session) {
	ctx := context.Background()
	r := se.Securekapi(ctx, "shell", "e2e-b", "--", "kubectl", "auth", "whoami", "-o", "json")
	if r.Err != nil {
		t.Fatalf("shell e2e-b -- kubectl auth whoami: %v\n%s", r.Err, r.Stderr)
	}
	var w whoami
	if err := json.Unmarshal([]byte(r.Stdout), &w); err != nil || w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami in the shell = %+v (%v)\n%s", w.Status.UserInfo, err, r.Stdout)
	}
	r = se.Securekapi(ctx, "shell", "e2e-b", "--", "sh", "-c", `echo "$KUBECONFIG $SECUREKAPI_CLUSTER $(kubectl config current-context)"; exit 3`)
	if code := exitCode(r.Err); code != 3 {
		t.Fatalf("shell -- sh -c 'exit 3' exited %d, want 3\n%s", code, r.Stderr)
	}
	f := strings.Fields(r.Stdout)
	if len(f) != 3 || f[1] != "e2e-b" || f[2] != "e2e-b" {
		t.Fatalf("KUBECONFIG, SECUREKAPI_CLUSTER, current-context in the shell = %q, want PATH e2e-b e2e-b", r.Stdout)
	}
	if f[0] == filepath.Join(se.Dir, "kubeconfig") {
		t.Fatalf("the shell uses the user's kubeconfig, not a private one")
	}
	assertGone(t, f[0], "the command exited")
	if got := currentContext(t, se); got != "e2e" {
		t.Errorf("the user's current-context = %q after shell e2e-b, want e2e unchanged", got)
	}
}

// testShellKilled: the private file goes when the child is SIGKILLed and
// when shell itself gets SIGHUP (its terminal closed) or SIGTERM.
func testShellKilled(t *testing.T, se *stack.Session) {
	r := se.Securekapi(context.Background(), "shell", "e2e", "--", "sh", "-c", `echo "$KUBECONFIG"; kill -9 $$`)
	if code := exitCode(r.Err); code != 128+9 {
		t.Fatalf("shell whose child is SIGKILLed exited %d, want 137\n%s", code, r.Stderr)
	}
	assertGone(t, strings.TrimSpace(r.Stdout), "the child was killed")

	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		cmd := exec.Command(se.Plugin, "shell", "e2e", "--", "sh", "-c", `echo "$KUBECONFIG"; exec sleep 60`)
		cmd.Env = se.Environ()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("no KUBECONFIG from the shell: %v", err)
		}
		path := strings.TrimSpace(line)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("private kubeconfig while the shell runs: %v", err)
		}
		_ = cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("shell did not end within 20s of %v", sig)
		}
		if code := exitCode(err); code != 128+int(sig) {
			t.Errorf("shell exited %d after %v, want %d", code, sig, 128+int(sig))
		}
		assertGone(t, path, sig.String())
	}
}

// testShellTwoTerminals: two tmux windows, each in `kubectl securekapi
// shell` on its own cluster at the same time, each sees its own cluster
// and identity; the user's current-context never moves; `exit` and
// closing the window both remove the private file.
func testShellTwoTerminals(t *testing.T, se *stack.Session) {
	term := newTerminal(t, se)
	term.newWindow("b")
	term.typeLine("main", "kubectl securekapi shell e2e")
	term.typeLine("b", "kubectl securekapi shell e2e-b")
	term.waitFor("main", "Working on e2e in a new /bin/bash")
	term.waitFor("b", "Working on e2e-b in a new /bin/bash")

	paths := map[string]string{}
	for window, cluster := range map[string]string{"main": "e2e", "b": "e2e-b"} {
		term.typeLine(window, `echo "ctx=$(kubectl config current-context) env=$SECUREKAPI_CLUSTER kc=$KUBECONFIG"; kubectl auth whoami`)
		want := "ctx=" + cluster + " env=" + cluster + " kc="
		screen := term.waitFor(window, stack.Reader.Email)
		l := lineWith(screen, want)
		if l == "" {
			t.Fatalf("window %s (shell %s) does not show %q:\n%s", window, cluster, want, screen)
		}
		paths[window] = strings.TrimSpace(l[strings.Index(l, " kc=")+len(" kc="):])
		if _, err := os.Stat(paths[window]); err != nil {
			t.Fatalf("private kubeconfig of %s while its shell runs: %v", cluster, err)
		}
	}
	if paths["main"] == paths["b"] {
		t.Fatalf("both shells share %s", paths["main"])
	}
	if got := currentContext(t, se); got != "e2e" {
		t.Errorf("the user's current-context = %q while the shells run, want e2e", got)
	}

	term.typeLine("main", "exit")
	term.waitFor("main", "Left the e2e shell")
	assertGone(t, paths["main"], "exit")

	term.tmux("kill-window", "-t", "e2e:b")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(paths["b"]); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("private kubeconfig %s still there 15s after its terminal closed", paths["b"])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := currentContext(t, se); got != "e2e" {
		t.Errorf("the user's current-context = %q after the shells, want e2e", got)
	}
}

// testTunnelShell: a tunneled cluster's shell reaches the cluster through
// the gateway, with the proxy for the shell's lifetime.
func testTunnelShell(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	ctx := context.Background()
	before := gatewayConnections(gw)
	r := se.Securekapi(ctx, "shell", "e2e", "--", "sh", "-c", `echo "$KUBECONFIG"; grep -c 'proxy-url: http://securekapi:' "$KUBECONFIG" >&2; kubectl auth whoami -o json >&2`)
	if r.Err != nil {
		t.Fatalf("shell e2e through the %s gateway: %v\n%s\ngateway log:\n%s", gw.Kind, r.Err, r.Stderr, gw.LogTail())
	}
	if !strings.HasPrefix(r.Stderr, "1\n") || !strings.Contains(r.Stderr, `"username": "`+stack.Reader.Email+`"`) {
		t.Fatalf("the shell's kubeconfig is not routed through the proxy, or whoami failed:\n%s", r.Stderr)
	}
	waitGatewayConnections(t, gw, before)
	assertGone(t, strings.TrimSpace(r.Stdout), "the tunneled shell exited")
}
