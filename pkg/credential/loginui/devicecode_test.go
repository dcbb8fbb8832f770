package loginui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

func noEnv(string) string { return "" }

// TestDeviceCodeExpiryShowsTheZone: "expires at 8:02PM" is ambiguous on a
// CI runner in UTC read from a laptop elsewhere.
func TestDeviceCodeExpiryShowsTheZone(t *testing.T) {
	var errOut bytes.Buffer
	ShowDeviceCode(IO{ErrOut: &errOut}, noEnv, oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
		ExpiresAt: time.Date(2026, 12, 1, 20, 2, 0, 0, time.UTC)}, time.Time{})
	if !strings.Contains(errOut.String(), "expires at 2026-12-01T20:02:00Z") {
		t.Errorf("device code expiry without date and zone:\n%s", errOut.String())
	}
}

// TestDeviceCodeInACILogIsOnePlainLine: off a terminal the device flow
// says one line, with the URL that carries the code and the expiry, and
// the wait when --login-timeout ends it sooner; no QR code, and none of
// the issuer's text can put control characters into the log.
func TestDeviceCodeInACILogIsOnePlainLine(t *testing.T) {
	expires := time.Date(2026, 12, 1, 20, 2, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		wait time.Time
		want []string
	}{
		{"timeout after the code", expires.Add(time.Minute), []string{"open https://login.example.com/device?user_code=ABCD-EFGH", "(code ABCD-EFGH)", "expires at 2026-12-01T20:02:00Z"}},
		{"timeout first", expires.Add(-4 * time.Minute), []string{"expires at 2026-12-01T20:02:00Z", "waits only until 2026-12-01T19:58:00Z (--login-timeout)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			ShowDeviceCode(IO{ErrOut: &errOut}, noEnv, oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
				VerificationURIComplete: "https://login.example.com/device?user_code=ABCD-EFGH\r\x1b[2J", ExpiresAt: expires}, tc.wait)
			out := errOut.String()
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("want exactly one line, got %q", out)
			}
			if strings.ContainsAny(strings.TrimSuffix(out, "\n"), "\r\x1b\u2580\u2584\u2588") {
				t.Errorf("control characters or QR blocks in the log line: %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("log line lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestDeviceCodeOnATerminalHasAQRCode: at a terminal the device flow shows
// the URL, the code and a QR code of the complete URL; NO_QR leaves the
// QR code out.
func TestDeviceCodeOnATerminalHasAQRCode(t *testing.T) {
	d := oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
		VerificationURIComplete: "https://login.example.com/device?user_code=ABCD-EFGH", ExpiresAt: time.Now().Add(5 * time.Minute)}
	const qrBlocks = "\u2580\u2584\u2588"
	var errOut bytes.Buffer
	ShowDeviceCode(IO{ErrOut: &errOut, StderrTTY: true}, noEnv, d, time.Time{})
	out := errOut.String()
	for _, want := range []string{"enter the code: ABCD-EFGH", "Or open: " + d.VerificationURIComplete, "Waiting for approval"} {
		if !strings.Contains(out, want) {
			t.Errorf("device code on a terminal lacks %q:\n%s", want, out)
		}
	}
	if !strings.ContainsAny(out, qrBlocks) {
		t.Errorf("no QR code on a terminal:\n%s", out)
	}
	errOut.Reset()
	ShowDeviceCode(IO{ErrOut: &errOut, StderrTTY: true}, func(k string) string { return map[string]string{"NO_QR": "1"}[k] }, d, time.Time{})
	if strings.ContainsAny(errOut.String(), qrBlocks) || !strings.Contains(errOut.String(), "Or open: ") {
		t.Errorf("NO_QR still draws a QR code, or drops the URL:\n%s", errOut.String())
	}
}

// TestLoginCountdownOnlyOnATerminal: the countdown redraws one line of a
// terminal's stderr, counting down on the clock it is given, and clears it
// when stopped; a log gets none of it.
func TestLoginCountdownOnlyOnATerminal(t *testing.T) {
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var errOut bytes.Buffer
	ShowProgress(IO{ErrOut: &errOut, StderrTTY: true}, clock, "waiting for approval", now.Add(2*time.Minute))()
	if out := errOut.String(); !strings.HasPrefix(out, "\r  waiting for approval: 2m0s left ") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("countdown on a terminal = %q", out)
	}
	errOut.Reset()
	ShowProgress(IO{ErrOut: &errOut, StdinTTY: true}, clock, "waiting for approval", now.Add(2*time.Minute))()
	if errOut.Len() != 0 {
		t.Errorf("countdown written to a stderr that is no terminal: %q", errOut.String())
	}
}
