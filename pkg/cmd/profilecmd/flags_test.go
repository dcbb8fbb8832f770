package profilecmd

import (
	"slices"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdProfileFlags(t *testing.T) {
	url, root, _ := cmdtest.Endpoint(t)
	var got *ProfileOptions
	cmd := newCmdProfile(cmdtest.Factory(nil), func(o *ProfileOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, profileArgs("cluster-a", url, testpki.WritePEM(t, "root.pem", root.CertPEM), "--oidc-extra-scope", "email")...); err != nil {
		t.Fatal(err)
	}
	if got.Cluster.Name != "cluster-a" || got.Cluster.Server != url || !slices.Equal(got.Cluster.OIDC.ExtraScopes, []string{"email"}) {
		t.Errorf("options = %+v", got)
	}
}
