package add

import (
	"slices"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdAddFlags(t *testing.T) {
	fx := cmdtest.NewAddFixture(t)
	var got *AddOptions
	cmd := newCmdAdd(cmdtest.Factory(fx.Env), func(o *AddOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, fx.Args("cluster-a", "--pin", "sha256:"+pinHex, "-n", "team-a", "--approve", "--dry-run")...); err != nil {
		t.Fatal(err)
	}
	c := got.Cluster
	if c.Name != "cluster-a" || c.Server != fx.Server || c.OIDC.IssuerURL != fx.Issuer || c.Namespace != "team-a" ||
		!slices.Equal(c.Pins, []string{"sha256:" + pinHex}) || len(c.CertificateAuthorityData) == 0 || !got.Approve || !got.DryRun || got.Registry == nil || got.Registry.Path != fx.RegistryPath {
		t.Errorf("options = %+v", got)
	}
}

const pinHex = "7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c"
