// Command demo brings the local stack up and shows securekapi's main job
// with the real kubectl: register the cluster's trusted endpoint pinned to
// its enterprise CA, point a fresh kubeconfig at it, log in through Dex with
// the browser flow (the login page is completed by a test browser), and ask
// the API server who we are. It keeps the stack running until Ctrl-C, or
// exits at once with --once.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

func main() {
	once := flag.Bool("once", false, "exit after showing everything")
	flag.Parse()
	if err := run(*once); err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

func run(once bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	say("Starting the local stack: etcd, kube-apiserver (random CA, OIDC), Dex, HAProxy as the trusted endpoint")
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	s, err := stack.Start(startCtx, stack.Options{Progress: os.Stdout})
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the stack")
		s.Stop()
	}()
	se, remove, err := s.NewTempSession("securekapi-demo-", stack.Reader)
	if err != nil {
		return err
	}
	defer remove()
	plugin := func(args ...string) func() stack.Result {
		return func() stack.Result { return runInOrder(ctx, se, se.Plugin, args...) }
	}
	kubectl := func(args ...string) func() stack.Result {
		return func() stack.Result { return runInOrder(ctx, se, "kubectl", args...) }
	}
	steps := []struct {
		say string
		run func() stack.Result
	}{
		{"Platform owner: show the endpoint's chain and the pin to publish",
			plugin("pin", s.EndpointURL, "--tls-server-name", stack.EndpointServerName)},
		{"User: register the cluster with that pin and Dex as the OIDC issuer (pin, then add)",
			func() stack.Result {
				return stack.Result{Stderr: "registered 'demo'\n", Err: se.AddCluster(ctx, "demo")}
			}},
		{"User: verify the endpoint live and switch a fresh kubeconfig to it",
			plugin("use", "demo")},
		{"kubectl before login: the cluster is not yet approved for the login and kubectl is not interactive here, so the plugin fails at once",
			expectFailure("the error below is expected: the plugin names the login command rather than open a browser for a background kubectl", kubectl("get", "ns"))},
		{"User: log in with the browser flow (PKCE), approving the cluster for single sign-on (--approve stands in for the terminal); a test browser completes Dex's login page as " + stack.Reader.Email,
			plugin("login", "demo", "--approve", "--browser-command", se.BrowserCommand())},
		{"The kubeconfig (shown after login: kubectl config view runs the exec plugin too) trusts exactly the verified enterprise CA and calls securekapi for tokens",
			kubectl("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server} tls-server-name={.clusters[0].cluster.tls-server-name}{\"\\n\"}exec: {.users[0].user.exec.command} {.users[0].user.exec.args[0]}{\"\\n\"}")},
		{"kubectl get ns through the trusted endpoint, with the token from the OS keyring", kubectl("get", "ns")},
		{"kubectl auth whoami: the API server sees the OIDC identity", kubectl("auth", "whoami")},
		{"securekapi status", plugin("status")},
	}
	for _, st := range steps {
		say("%s", st.say)
		r := st.run()
		show(r)
		if r.Err != nil {
			return fmt.Errorf("%s: %v", st.say, r.Err)
		}
	}
	say("Done: the API server at %s saw %s through %s (pinned, OIDC).", s.APIServerURL, stack.Reader.Email, s.EndpointURL)
	if once {
		return nil
	}
	fmt.Printf("\nThe stack keeps running. Try it:\n  export KUBECONFIG=%s/kubeconfig SECUREKAPI_CONFIG=%s/config/clusters.yaml SECUREKAPI_CACHE_DIR=%s/cache\n  kubectl get ns\nPress Ctrl-C to stop and clean up.\n", se.Dir, se.Dir, se.Dir)
	<-ctx.Done()
	return nil
}

// runInOrder runs a command in the session with stdout and stderr into one
// buffer, so the demo shows its lines in the order the command wrote them
// (pin's "Pin to publish:" on stderr, then the pin on stdout). Stdout holds
// it all.
func runInOrder(ctx context.Context, se *stack.Session, name string, args ...string) stack.Result {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = se.Environ(), se.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out // one writer: exec serializes the writes
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = fmt.Errorf("exit status %d", exit.ExitCode())
	}
	return stack.Result{Stdout: out.String(), Err: err}
}

// expectFailure marks a step that must fail, saying so above its output so
// nobody reading the demo takes the "error:" line for a broken run.
func expectFailure(why string, run func() stack.Result) func() stack.Result {
	return func() stack.Result {
		r := run()
		if r.Err == nil {
			r.Err = errors.New("succeeded, but was expected to fail")
			return r
		}
		r.Stdout, r.Err = "("+why+")\n"+r.Stdout, nil
		return r
	}
}

func show(r stack.Result) {
	if r.Stdout != "" {
		fmt.Print(indent(r.Stdout))
	}
	if r.Stderr != "" {
		fmt.Print(indent(r.Stderr))
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "    " + strings.Join(lines, "\n    ") + "\n"
}
