package cmdutil

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// TestDeviceCodeExpiryShowsTheZone: "expires at 8:02PM" is ambiguous on a
// CI runner in UTC read from a laptop elsewhere.
func TestDeviceCodeExpiryShowsTheZone(t *testing.T) {
	var errOut bytes.Buffer
	g := &Factory{IOStreams: genericiooptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
	ShowDeviceCode(g, oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
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
			g := &Factory{IOStreams: genericiooptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
			ShowDeviceCode(g, oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
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
