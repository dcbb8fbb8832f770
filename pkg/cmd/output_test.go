package cmd

import (
	"bytes"
	"regexp"
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
		ExpiresAt: time.Date(2026, 12, 1, 20, 2, 0, 0, time.UTC)})
	if !regexp.MustCompile(`expires at 2026-12-0[12]T\d\d:\d\d:00(Z|[+-]\d\d:\d\d)\)`).MatchString(errOut.String()) {
		t.Errorf("device code expiry without date and zone:\n%s", errOut.String())
	}
}
