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

// TestHAProxyPathsAreTheHostsAsGiven: --cert-file and --ca-file name files
// as the HAProxy host sees them, so an absolute Unix path is kept as given,
// also on Windows (where filepath.Abs would put a drive letter before it,
// which validation then refused).
func TestHAProxyPathsAreTheHostsAsGiven(t *testing.T) {
	var got *ExposeOptions
	cmd := newCmdExpose(cmdtest.Factory(nil), func(o *ExposeOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "--via", "haproxy", "--host", "kapi.example.com", "--bind", "0.0.0.0:443",
		"--cert-file", "/etc/haproxy/../haproxy/kapi.pem", "--ca-file", "/etc/haproxy/cluster-ca.crt"); err != nil {
		t.Fatal(err)
	}
	if got.CertFile != "/etc/haproxy/kapi.pem" {
		t.Errorf("cert file = %q, want /etc/haproxy/kapi.pem", got.CertFile)
	}
	if got.CAFile != "/etc/haproxy/cluster-ca.crt" {
		t.Errorf("CA file = %q, want /etc/haproxy/cluster-ca.crt", got.CAFile)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
