package cmdutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mdp/qrterminal/v3"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// interactiveLogin returns the login the flags choose: the browser flow or
// the device flow, bounded by --login-timeout and ended by SIGINT or
// SIGTERM. An interrupted login says so, never "timed out": the handler is
// installed even when the process started with SIGINT ignored (a
// background job, nohup), so Ctrl-C or kill -INT ends it at once instead
// of leaving it to run into the timeout.
func (g *Factory) interactiveLogin(a *AccessFlags) func(context.Context, oidc.Issuer) (*oidc.Tokens, error) {
	return func(parent context.Context, p oidc.Issuer) (*oidc.Tokens, error) {
		interruptible, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
		defer stop()
		ctx, cancel := context.WithTimeout(interruptible, a.LoginTimeout)
		defer cancel()
		tokens, err := g.runLoginFlow(ctx, a, p)
		if err != nil && interruptible.Err() != nil {
			return nil, fmt.Errorf("login interrupted (%v) before it finished; nothing was saved; run `%s` to try again", context.Cause(interruptible), a.LoginCommand())
		}
		return tokens, err
	}
}

// runLoginFlow runs the chosen flow until it ends or ctx does.
func (g *Factory) runLoginFlow(ctx context.Context, a *AccessFlags, p oidc.Issuer) (*oidc.Tokens, error) {
	grant := a.Grant
	if grant == access.GrantAuto {
		grant = access.GrantAuthCode
		if a.BrowserCmd == "" && !canOpenBrowser(g.Getenv) && p.HasDeviceFlow() {
			grant = access.GrantDeviceCode
			if g.Getenv("CI") != "" {
				fmt.Fprintf(g.ErrOut, "securekapi: this cluster has no CI grant (see `kubectl securekapi use --help`, --ci), so this CI job falls back to the device flow: a person must approve it\n")
			}
		}
	}
	deadline, _ := ctx.Deadline()
	// The flows call back on their own goroutines, which may still run
	// when the flow returns (an interrupted login), so the countdown's
	// stop function is shared under a lock.
	// A countdown asked for after the flow ended is never started.
	var progress struct {
		sync.Mutex
		stop  func()
		ended bool
	}
	startProgress := func(what string, until time.Time) {
		progress.Lock()
		defer progress.Unlock()
		if !progress.ended {
			progress.stop = showProgress(g, what, until)
		}
	}
	defer func() {
		progress.Lock()
		defer progress.Unlock()
		progress.ended = true
		if progress.stop != nil {
			progress.stop()
		}
	}()
	if grant == access.GrantDeviceCode {
		return p.DeviceLogin(ctx, func(d oidc.DeviceAuthorization) {
			until := deadline
			if !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(until) {
				until = d.ExpiresAt
			}
			ShowDeviceCode(g, d, deadline)
			startProgress("waiting for approval", until)
		})
	}
	return p.BrowserLogin(ctx, oidc.BrowserOptions{
		Open: func(url string) error {
			err := g.openBrowser(a.BrowserCmd, url)
			startProgress("waiting for the browser login", deadline)
			return err
		},
		BindAddress: a.BindAddresses,
	})
}

// showProgress keeps a countdown to deadline on one line of stderr while a
// person has to act, and returns the function that clears it. It shows
// nothing unless stderr is a terminal: logs and CI output stay clean, and
// stdout (which may carry an ExecCredential) is never touched.
func showProgress(g *Factory, what string, deadline time.Time) (stop func()) {
	if deadline.IsZero() || !g.StderrIsTTY() {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			left := time.Until(deadline).Round(time.Second)
			fmt.Fprintf(g.ErrOut, "\r  %s: %s left ", what, left)
			select {
			case <-done:
				fmt.Fprint(g.ErrOut, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// ShowDeviceCode tells the user where to approve the login, on stderr, with
// a QR code when stderr is a terminal. Off a terminal (a CI log, a file) it
// is one plain line: the URL with the code, the code's expiry, and how long
// securekapi waits (--login-timeout) when that ends sooner.
func ShowDeviceCode(g *Factory, d oidc.DeviceAuthorization, wait time.Time) {
	if !g.StderrIsTTY() {
		fmt.Fprintln(g.ErrOut, deviceCodeLine(d, wait))
		return
	}
	fmt.Fprintf(g.ErrOut, "To log in, open %s and enter the code: %s\n", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		fmt.Fprintf(g.ErrOut, "Or open: %s\n", d.VerificationURIComplete)
		if g.Getenv("NO_QR") == "" {
			qrterminal.GenerateHalfBlock(d.VerificationURIComplete, qrterminal.L, g.ErrOut)
		}
	}
	if !d.ExpiresAt.IsZero() {
		fmt.Fprintf(g.ErrOut, "Waiting for approval (the code expires at %s)...\n", d.ExpiresAt.Local().Format(time.RFC3339))
	}
}

// deviceCodeLine is the device flow's one line for a log.
func deviceCodeLine(d oidc.DeviceAuthorization, wait time.Time) string {
	line := fmt.Sprintf("To log in, open %s and enter the code %s", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		line = fmt.Sprintf("To log in, open %s (code %s)", d.VerificationURIComplete, d.UserCode)
	}
	switch {
	case !d.ExpiresAt.IsZero() && (wait.IsZero() || !wait.Before(d.ExpiresAt)):
		line += "; the code expires at " + d.ExpiresAt.UTC().Format(time.RFC3339)
	case !d.ExpiresAt.IsZero():
		line += "; the code expires at " + d.ExpiresAt.UTC().Format(time.RFC3339) + ", but securekapi waits only until " + wait.UTC().Format(time.RFC3339) + " (--login-timeout)"
	case !wait.IsZero():
		line += "; securekapi waits until " + wait.UTC().Format(time.RFC3339) + " (--login-timeout)"
	}
	return strings.Map(func(r rune) rune { // the issuer's text, in a log: no control characters
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return -1
		}
		return r
	}, line)
}

// openBrowser runs the browser command with the URL and always prints the
// URL too, so a user whose browser does not come up can copy it.
func (g *Factory) openBrowser(command, url string) error {
	fmt.Fprintf(g.ErrOut, "Opening the login page in your browser. If it does not open, visit:\n  %s\n", url)
	if g.Browser != nil {
		return g.Browser(command, url)
	}
	return g.systemBrowser(command, url)
}

// systemBrowser runs command (--browser-command), else the system's
// opener, with the URL, without waiting for it.
func (g *Factory) systemBrowser(command, url string) error {
	name, args := systemOpener()
	if command != "" {
		fields := strings.Fields(command)
		name, args = fields[0], fields[1:]
	}
	if name == "" {
		return nil // no opener: the printed URL is the way
	}
	cmd := exec.Command(name, append(args, url)...)
	if g.Getenv("KUBERNETES_EXEC_INFO") != "" {
		// From a kubeconfig exec stanza, whose env is its writer's: the
		// opener is the system's own, found in the system's directories,
		// and runs with the environment kubectl was started with, never
		// the stanza's PATH, BROWSER or XDG_* (xdg-open runs $BROWSER and
		// the handlers XDG_DATA_DIRS names).
		path, env := execPathOpener(name, g.CallerConfig())
		if path == "" {
			return nil // no system opener: the printed URL is the way
		}
		cmd.Path, cmd.Env = path, env
	}
	// Never our stdout: it may carry an ExecCredential. The browser's
	// chatter goes to stderr only when that is a file the child can share:
	// any other writer would be written by exec's copying goroutine while
	// the login writes to it too.
	if f, ok := g.ErrOut.(*os.File); ok {
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		if command != "" {
			return fmt.Errorf("--browser-command %q: %w", command, err)
		}
		fmt.Fprintf(g.ErrOut, "Could not open a browser (%v); visit the URL above.\n", err)
		return nil
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// systemDirs are where the exec path looks for the system's opener.
var systemDirs = []string{"/usr/bin", "/bin", "/usr/local/bin"}

// execPathOpener is the system opener name as a path in the system's own
// directories, and the environment it runs with on the exec path: the
// caller's, read from the parent process, else ours without what chooses
// programs (PATH set to the system's directories, BROWSER and XDG_* dropped).
func execPathOpener(name string, caller *callerconfig.Caller) (string, []string) {
	path := ""
	if runtime.GOOS == "windows" {
		if root := os.Getenv("SystemRoot"); root != "" {
			path = filepath.Join(root, "System32", name+".exe")
		}
	} else {
		for _, dir := range systemDirs {
			if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
				path = filepath.Join(dir, name)
				break
			}
		}
	}
	if caller != nil && caller.FromParent && len(caller.Environ) > 0 {
		return path, caller.Environ
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "BROWSER" || strings.HasPrefix(k, "XDG_") && k != "XDG_RUNTIME_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return path, append(env, "PATH="+strings.Join(systemDirs, string(os.PathListSeparator)))
}

func systemOpener() (string, []string) {
	switch runtime.GOOS {
	case "darwin":
		return "open", nil
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if _, err := exec.LookPath("xdg-open"); err == nil {
			return "xdg-open", nil
		}
		if _, err := exec.LookPath("wslview"); err == nil {
			return "wslview", nil
		}
		return "", nil
	}
}

// canOpenBrowser guesses whether a browser can show up for this user: not
// over SSH or in CI without a display.
func canOpenBrowser(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return getenv("SSH_CONNECTION") == "" && getenv("CI") == ""
	}
	if getenv("CI") != "" {
		return false
	}
	if getenv("WSL_DISTRO_NAME") != "" {
		_, err := exec.LookPath("wslview")
		return err == nil
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	name, _ := systemOpener()
	return name != ""
}
