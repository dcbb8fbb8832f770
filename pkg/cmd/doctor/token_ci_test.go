package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// TestDoctorFindsACIContextsToken: after `use cluster-a --ci github
// --approve` and a CI token cached by the credential path under the CI
// grant's own key, doctor's cached-token step finds the approval and the
// token there, and does not send the job to `login`.
func TestDoctorFindsACIContextsToken(t *testing.T) {
	ci := cmdtest.NewCIContext(t, add.NewCmdAdd, use.NewCmdUse, nil)
	a := ci.Access
	idToken := testjwt.Unsigned(map[string]any{"iss": a.Issuer, "aud": a.ClientID,
		"sub": "repo:org/app:ref:refs/heads/main", "exp": time.Now().Add(time.Hour).Unix()})
	ci.Cache(t, &tokenstore.TokenSet{IDToken: idToken, Expiry: time.Now().Add(time.Hour)})

	g := cmdtest.Factory(ci.Env)
	g.Kubeconfig = ci.Kubeconfig
	o := newDoctorOptions(g)
	o.Name = "cluster-a"
	st := &doctorState{}
	if c := o.checkKubeconfig(context.Background(), st); c.Status != StatusOK {
		t.Fatalf("checkKubeconfig = %+v", c)
	}
	c := o.checkToken(context.Background(), st)
	if c.Status != StatusOK || strings.Contains(c.Fix, "login") {
		t.Fatalf("checkToken on the approved CI context with a cached token = %+v, want ok", c)
	}
	if st.token != idToken {
		t.Error("checkToken did not take the CI grant's cached token")
	}
}
