package loginui

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// Login is a person's interactive login: the browser flow or the device
// flow, as Grant chooses, shown on IO.
type Login struct {
	IO IO
	// Getenv is the environment: CI, SSH_CONNECTION and DISPLAY choose the
	// device flow for --grant auto, NO_QR leaves out the QR code.
	Getenv func(string) string
	// Now is the clock the countdown reads; nil is the system clock.
	Now func() time.Time
	// Browser opens a login URL; command is --browser-command (may be
	// empty). The command layer passes SystemBrowser's Open, tests a fake.
	Browser func(command, url string) error

	// Grant is --grant: auto, authcode or devicecode.
	Grant string
	// BrowserCommand is --browser-command.
	BrowserCommand string
	// BindAddresses are where the browser flow's loopback callback listens.
	BindAddresses []string
	// Timeout is --login-timeout.
	Timeout time.Duration
	// RetryCommand is the command that starts the login again, for the
	// message an interrupted login ends with.
	RetryCommand string
}

// Run logs in at p, bounded by Timeout and ended by SIGINT or SIGTERM. An
// interrupted login says so, never "timed out": the handler is installed
// even when the process started with SIGINT ignored (a background job,
// nohup), so Ctrl-C or kill -INT ends it at once instead of leaving it to
// run into the timeout.
func (l *Login) Run(parent context.Context, p oidc.Issuer) (*oidc.Tokens, error) {
	interruptible, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(interruptible, l.Timeout)
	defer cancel()
	tokens, err := l.flow(ctx, p)
	if err != nil && interruptible.Err() != nil {
		return nil, fmt.Errorf("login interrupted (%v) before it finished; nothing was saved; run `%s` to try again", context.Cause(interruptible), l.RetryCommand)
	}
	return tokens, err
}

// flow runs the chosen flow until it ends or ctx does.
func (l *Login) flow(ctx context.Context, p oidc.Issuer) (*oidc.Tokens, error) {
	flow := l.Grant
	if flow == grant.Auto {
		flow = grant.AuthCode
		if l.BrowserCommand == "" && !canOpenBrowser(l.Getenv) && p.HasDeviceFlow() {
			flow = grant.DeviceCode
			if l.Getenv("CI") != "" {
				fmt.Fprintf(l.IO.ErrOut, "securekapi: this cluster has no CI grant (see `kubectl securekapi use --help`, --ci), so this CI job falls back to the device flow: a person must approve it\n")
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
			progress.stop = ShowProgress(l.IO, l.Now, what, until)
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
	if flow == grant.DeviceCode {
		return p.DeviceLogin(ctx, func(d oidc.DeviceAuthorization) {
			until := deadline
			if !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(until) {
				until = d.ExpiresAt
			}
			ShowDeviceCode(l.IO, l.Getenv, d, deadline)
			startProgress("waiting for approval", until)
		})
	}
	return p.BrowserLogin(ctx, oidc.BrowserOptions{
		Open: func(url string) error {
			err := l.openBrowser(url)
			startProgress("waiting for the browser login", deadline)
			return err
		},
		BindAddress: l.BindAddresses,
	})
}

// openBrowser runs the browser with the URL and always prints the URL too,
// so a user whose browser does not come up can copy it.
func (l *Login) openBrowser(url string) error {
	fmt.Fprintf(l.IO.ErrOut, "Opening the login page in your browser. If it does not open, visit:\n  %s\n", url)
	return l.Browser(l.BrowserCommand, url)
}

// ShowProgress keeps a countdown to deadline on one line of stderr while a
// person has to act, and returns the function that clears it. It shows
// nothing unless stderr is a terminal: logs and CI output stay clean, and
// stdout (which may carry an ExecCredential) is never touched.
func ShowProgress(s IO, now func() time.Time, what string, deadline time.Time) (stop func()) {
	if deadline.IsZero() || !s.StderrTTY {
		return func() {}
	}
	now = clock(now)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			left := deadline.Sub(now()).Round(time.Second)
			fmt.Fprintf(s.ErrOut, "\r  %s: %s left ", what, left)
			select {
			case <-done:
				fmt.Fprint(s.ErrOut, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}
