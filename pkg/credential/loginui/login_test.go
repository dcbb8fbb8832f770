package loginui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// issuer is an OIDC provider whose flows answer at once: the device flow
// shows its code, the browser flow opens its URL (and fails as the browser
// does).
type issuer struct {
	oidc.Issuer
	device   bool
	blocking bool // the flow waits for the login to be cancelled
}

func (p *issuer) HasDeviceFlow() bool { return p.device }

func (p *issuer) DeviceLogin(ctx context.Context, show func(oidc.DeviceAuthorization)) (*oidc.Tokens, error) {
	show(oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device"})
	return &oidc.Tokens{IDToken: "device"}, nil
}

func (p *issuer) BrowserLogin(ctx context.Context, o oidc.BrowserOptions) (*oidc.Tokens, error) {
	if err := o.Open("https://login.example.com/auth?state=s"); err != nil {
		return nil, err
	}
	if p.blocking {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &oidc.Tokens{IDToken: "browser"}, nil
}

// login is a Login on a log (no terminal) with env, recording what it opens.
func login(env map[string]string, grant string) (*Login, *bytes.Buffer, *[]string) {
	var errOut bytes.Buffer
	var opened []string
	return &Login{
		IO:     IO{ErrOut: &errOut},
		Getenv: func(k string) string { return env[k] },
		Browser: func(command, url string) error {
			opened = append(opened, command+" "+url)
			return nil
		},
		Grant: grant, Timeout: time.Minute, RetryCommand: "kubectl securekapi login cluster-a",
	}, &errOut, &opened
}

// With no display, --grant auto in CI takes the device flow and says that a
// person must approve this job; no browser is started.
func TestAutoGrantInCITakesTheDeviceFlow(t *testing.T) {
	l, errOut, opened := login(map[string]string{"CI": "true"}, grant.Auto)
	tokens, err := l.Run(t.Context(), &issuer{device: true})
	if err != nil || tokens.IDToken != "device" {
		t.Fatalf("Run() = %v, %v", tokens, err)
	}
	if len(*opened) != 0 {
		t.Errorf("a browser was opened: %v", *opened)
	}
	for _, want := range []string{"falls back to the device flow: a person must approve it", "enter the code ABCD-EFGH"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
}

// The browser flow prints the URL before it opens it (a browser that does
// not come up leaves the URL to copy), with --browser-command; a browser
// that fails fails the login with its error.
func TestBrowserLoginPrintsTheURLAndOpensIt(t *testing.T) {
	l, errOut, opened := login(nil, grant.AuthCode)
	l.BrowserCommand = "firefox --new-window"
	if tokens, err := l.Run(t.Context(), &issuer{}); err != nil || tokens.IDToken != "browser" {
		t.Fatalf("Run() = %v, %v", tokens, err)
	}
	if want := []string{"firefox --new-window https://login.example.com/auth?state=s"}; len(*opened) != 1 || (*opened)[0] != want[0] {
		t.Errorf("opened %q, want %q", *opened, want)
	}
	if !strings.Contains(errOut.String(), "visit:\n  https://login.example.com/auth?state=s\n") {
		t.Errorf("the URL is not printed:\n%s", errOut)
	}

	l, _, _ = login(nil, grant.AuthCode)
	broken := errors.New("no such browser")
	l.Browser = func(string, string) error { return broken }
	if _, err := l.Run(t.Context(), &issuer{}); !errors.Is(err, broken) {
		t.Errorf("a browser that fails: Run() = %v", err)
	}
}

// A login ended by a signal (here: the caller's context) says it was
// interrupted and how to start again, never that it timed out.
func TestInterruptedLoginSaysSo(t *testing.T) {
	l, _, _ := login(nil, grant.AuthCode)
	ctx, cancel := context.WithCancel(t.Context())
	l.Browser = func(string, string) error { cancel(); return nil }
	_, err := l.Run(ctx, &issuer{blocking: true})
	if err == nil || !strings.Contains(err.Error(), "login interrupted") || !strings.Contains(err.Error(), "run `kubectl securekapi login cluster-a` to try again") {
		t.Errorf("Run() = %v", err)
	}
}

// A --browser-command that cannot start is the user's to fix: an error
// naming the flag. (The system's own opener failing is only a notice.)
func TestBrowserCommandThatCannotStart(t *testing.T) {
	var errOut bytes.Buffer
	b := SystemBrowser{ErrOut: &errOut, Getenv: noEnv}
	err := b.Open("/nonexistent/browser --flag", "https://login.example.com/auth")
	if err == nil || !strings.Contains(err.Error(), `--browser-command "/nonexistent/browser --flag"`) {
		t.Errorf("Open() = %v", err)
	}
}
