package login

import (
	"slices"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdLoginFlags(t *testing.T) {
	var got *LoginOptions
	cmd := newCmdLogin(cmdtest.Factory(nil), func(o *LoginOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "--oidc-issuer-url", "https://dex.example.com", "--oidc-client-id", "kubectl",
		"--oidc-extra-scope", "email", "--grant", "device-code", "--login-timeout", "1m", "--approve"); err != nil {
		t.Fatal(err)
	}
	a := got.Access
	if a.Issuer != "https://dex.example.com" || a.ClientID != "kubectl" || !slices.Equal(a.ExtraScopes, []string{"email"}) ||
		a.Grant != "device-code" || a.LoginTimeout != time.Minute || !got.Approve || got.Name != "" {
		t.Errorf("options = %+v", got)
	}
}
