package cmdutil

import (
	"bytes"
	"regexp"
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
		ExpiresAt: time.Date(2026, 12, 1, 20, 2, 0, 0, time.UTC)})
	if !regexp.MustCompile(`expires at 2026-12-0[12]T\d\d:\d\d:00(Z|[+-]\d\d:\d\d)\)`).MatchString(errOut.String()) {
		t.Errorf("device code expiry without date and zone:\n%s", errOut.String())
	}
}
