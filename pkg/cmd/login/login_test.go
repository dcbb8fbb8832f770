package login

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// loginArgs logs in to issuer with a "browser" that only touches opened,
// so the login waits for a callback that never comes.
func loginArgs(t *testing.T, issuer, caFile, opened string, extra ...string) []string {
	t.Helper()
	browser := filepath.Join(t.TempDir(), "browser.sh")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\ntouch '"+opened+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return append([]string{"--oidc-issuer-url", issuer, "--oidc-client-id", "kubectl", "--oidc-ca-file", caFile,
		"--grant", "auth-code", "--browser-command", browser, "--token-cache", "none"}, extra...)
}

// TestLoginInterruptedIsNotATimeout: a login whose context ends (Ctrl-C,
// kubectl going away) says it was interrupted; only --login-timeout
// running out says "timed out".
func TestLoginInterruptedIsNotATimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake browser is a sh script, which Windows cannot run")
	}
	issuer, caFile := cmdtest.FakeIssuer(t)
	opened := filepath.Join(t.TempDir(), "opened")
	env := map[string]string{"HOME": t.TempDir(), "SECUREKAPI_CACHE_DIR": t.TempDir()}

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(opened); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, errOut, err := cmdtest.RunWithEnvContext(t, ctx, env, NewCmdLogin, loginArgs(t, issuer, caFile, opened, "--login-timeout", "30s")...)
	if err == nil || !strings.Contains(err.Error(), "login interrupted") || strings.Contains(err.Error(), "timed out") {
		t.Errorf("cancelled login: err = %v\n%s", err, errOut)
	}

	_, errOut, err = cmdtest.RunWithEnv(t, env, NewCmdLogin, loginArgs(t, issuer, caFile, opened, "--login-timeout", "300ms")...)
	if err == nil || !strings.Contains(err.Error(), "timed out") || strings.Contains(err.Error(), "interrupted") {
		t.Errorf("login past --login-timeout: err = %v\n%s", err, errOut)
	}
}

// TestLoginEndsOnSIGINTEvenWhenStartedIgnoringIt: a login started with
// SIGINT ignored (a background job, nohup) still ends at kill -INT and
// says it was interrupted, rather than sitting until it "timed out".
func TestLoginEndsOnSIGINTEvenWhenStartedIgnoringIt(t *testing.T) {
	if dir := os.Getenv("SECUREKAPI_TEST_LOGIN_CHILD"); dir != "" {
		// The child: log in until something ends it.
		issuer, caFile := cmdtest.FakeIssuer(t)
		env := map[string]string{"HOME": dir, "SECUREKAPI_CACHE_DIR": dir}
		_, _, err := cmdtest.RunWithEnv(t, env, NewCmdLogin, loginArgs(t, issuer, caFile, filepath.Join(dir, "opened"), "--login-timeout", "20s")...)
		os.Stderr.WriteString("child login: " + err.Error() + "\n")
		return
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh to start a process with SIGINT ignored")
	}
	dir := t.TempDir()
	// trap "" INT makes the shell, and the process it execs, ignore SIGINT.
	child := exec.Command("sh", "-c", `trap "" INT; exec "$0" -test.run='^TestLoginEndsOnSIGINTEvenWhenStartedIgnoringIt$' -test.count=1`, os.Args[0])
	child.Env = append(os.Environ(), "SECUREKAPI_TEST_LOGIN_CHILD="+dir)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "opened")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("the child login never opened the browser:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := child.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		child.Process.Kill()
		<-done
		t.Fatalf("the login ignored SIGINT for 10s:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "child login: login interrupted (interrupt signal received)") {
		t.Errorf("the child did not report the interruption (after %v):\n%s", time.Since(start), out.String())
	}
}
