package pin

import (
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// TestPinPrintsYAML: -o yaml is YAML, like -o json is JSON.
func TestPinPrintsYAML(t *testing.T) {
	url, _, intermediate := cmdtest.Endpoint(t)
	out, errOut, err := cmdtest.RunWithEnv(t, nil, NewCmdPin, url, "--tls-server-name", cmdtest.TestHost, "-o", "yaml")
	if err != nil {
		t.Fatalf("pin: %v\n%s", err, errOut)
	}
	var got struct {
		Chain []trust.CertSummary `json:"chain"`
		Pin   pinning.Pin         `json:"pin"`
	}
	if err := yaml.UnmarshalStrict([]byte(out), &got); err != nil {
		t.Fatalf("pin -o yaml is not YAML: %v\n%s", err, out)
	}
	if got.Pin != trust.PinFor(intermediate.Cert) || len(got.Chain) != 2 {
		t.Errorf("pin -o yaml = %+v", got)
	}
}
