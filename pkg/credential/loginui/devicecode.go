package loginui

import (
	"fmt"
	"strings"
	"time"

	"github.com/mdp/qrterminal/v3"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// ShowDeviceCode tells the user where to approve the login, on stderr, with
// a QR code when stderr is a terminal (unless NO_QR is set). Off a terminal
// (a CI log, a file) it is one plain line: the URL with the code, the
// code's expiry, and how long securekapi waits (--login-timeout) when that
// ends sooner.
func ShowDeviceCode(s IO, getenv func(string) string, d oidc.DeviceAuthorization, wait time.Time) {
	if !s.StderrTTY {
		fmt.Fprintln(s.ErrOut, deviceCodeLine(d, wait))
		return
	}
	fmt.Fprintf(s.ErrOut, "To log in, open %s and enter the code: %s\n", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		fmt.Fprintf(s.ErrOut, "Or open: %s\n", d.VerificationURIComplete)
		if getenv("NO_QR") == "" {
			qrterminal.GenerateHalfBlock(d.VerificationURIComplete, qrterminal.L, s.ErrOut)
		}
	}
	if !d.ExpiresAt.IsZero() {
		fmt.Fprintf(s.ErrOut, "Waiting for approval (the code expires at %s)...\n", d.ExpiresAt.Local().Format(time.RFC3339))
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
