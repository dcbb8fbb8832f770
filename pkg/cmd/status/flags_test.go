package status

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdStatusFlags(t *testing.T) {
	var got *StatusOptions
	cmd := newCmdStatus(cmdtest.Factory(nil), func(o *StatusOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "-o", "yaml", "--token-cache", "file", "--cache-dir", "/tmp/c"); err != nil {
		t.Fatal(err)
	}
	if got.Output != "yaml" || got.Access.TokenCache != "file" || got.Access.CacheDir != "/tmp/c" {
		t.Errorf("options = %+v", got)
	}
}
