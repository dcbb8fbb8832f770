package exposecmd

import (
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/expose"
)

func TestNewCmdExposeFlags(t *testing.T) {
	var got *ExposeOptions
	cmd := newCmdExpose(cmdtest.Factory(nil), func(o *ExposeOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "--via", "gateway", "--host", "kapi.example.com.", "--namespace", "edge", "--tls-secret", "certs/kapi-tls",
		"--class", "eg", "--apply", "--dry-run=server", "--force-conflicts"); err != nil {
		t.Fatal(err)
	}
	if got.Options.Via != expose.Gateway || got.Host != "kapi.example.com" || got.Namespace != "edge" || got.TLSSecret != "certs/kapi-tls" ||
		got.Class != "eg" || !got.Apply || got.DryRun != "server" || !got.Force || got.FieldManager != "securekapi" {
		t.Errorf("options = %+v", got)
	}
	err := cmdtest.Execute(newCmdExpose(cmdtest.Factory(nil), func(*ExposeOptions) error { t.Fatal("ran"); return nil }), "--via", "haproxy", "--host", "kapi.example.com", "--tls-secret", "x")
	if err == nil {
		t.Error("--tls-secret with --via haproxy was accepted")
	}
}
