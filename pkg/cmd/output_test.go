package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/trust"
)

// TestPinPrintsYAML: -o yaml is YAML, like -o json is JSON.
func TestPinPrintsYAML(t *testing.T) {
	url, _, intermediate := endpoint(t)
	out, errOut, err := runWithEnv(t, nil, NewCmdPin, url, "--tls-server-name", testHost, "-o", "yaml")
	if err != nil {
		t.Fatalf("pin: %v\n%s", err, errOut)
	}
	var got struct {
		Chain []trust.CertSummary `json:"chain"`
		Pin   trust.Pin           `json:"pin"`
	}
	if err := yaml.UnmarshalStrict([]byte(out), &got); err != nil {
		t.Fatalf("pin -o yaml is not YAML: %v\n%s", err, out)
	}
	if got.Pin != trust.PinFor(intermediate.cert) || len(got.Chain) != 2 {
		t.Errorf("pin -o yaml = %+v", got)
	}
}

// TestLogoutHelpListsOnlyItsFlags: logout never logs in, so its help does
// not offer the login flow's flags.
func TestLogoutHelpListsOnlyItsFlags(t *testing.T) {
	_, help, err := runWithEnv(t, nil, NewCmdLogout, "--help")
	if err != nil || !strings.Contains(help, "--all") {
		t.Fatalf("logout --help: %v\n%s", err, help)
	}
	for _, flag := range loginOnlyFlags {
		if strings.Contains(help, "--"+flag) {
			t.Errorf("logout --help lists --%s", flag)
		}
	}
}

// TestDeviceCodeExpiryShowsTheZone: "expires at 8:02PM" is ambiguous on a
// CI runner in UTC read from a laptop elsewhere.
func TestDeviceCodeExpiryShowsTheZone(t *testing.T) {
	var errOut bytes.Buffer
	g := &GlobalOptions{IOStreams: genericiooptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
	showDeviceCode(g, oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
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
			g := &GlobalOptions{IOStreams: genericiooptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
			showDeviceCode(g, oidc.DeviceAuthorization{UserCode: "ABCD-EFGH", VerificationURI: "https://login.example.com/device",
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
