package logout

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdLogoutFlags(t *testing.T) {
	var got *LogoutOptions
	cmd := newCmdLogout(cmdtest.Factory(nil), func(o *LogoutOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "--all", "--token-cache", "file"); err != nil {
		t.Fatal(err)
	}
	if !got.All || got.Access.TokenCache != "file" {
		t.Errorf("options = %+v", got)
	}
	if err := cmdtest.Execute(newCmdLogout(cmdtest.Factory(nil), func(*LogoutOptions) error { t.Fatal("ran"); return nil }), "cluster-a", "--all"); err == nil {
		t.Error("logout NAME --all was accepted")
	}
}
