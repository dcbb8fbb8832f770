package pin

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdPinFlags(t *testing.T) {
	var got *PinOptions
	cmd := newCmdPin(cmdtest.Factory(nil), func(o *PinOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "https://10.0.0.5:6443", "--tls-server-name", "kapi.example.com", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://10.0.0.5:6443" || got.TLSServerName != "kapi.example.com" || got.Output != "json" {
		t.Errorf("options = %+v", got)
	}
}
