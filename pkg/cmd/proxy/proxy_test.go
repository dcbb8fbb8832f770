package proxy

import (
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdProxyFlags(t *testing.T) {
	var got *ProxyOptions
	cmd := newCmdProxy(cmdtest.Factory(nil), func(o *ProxyOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "--listen", "127.0.0.1:8001", "-o", "yaml"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "cluster-a" || got.Listen != "127.0.0.1:8001" || got.Output != "yaml" {
		t.Errorf("options = %+v", got)
	}
	if err := cmdtest.Execute(newCmdProxy(cmdtest.Factory(nil), func(*ProxyOptions) error { t.Fatal("ran"); return nil }), "cluster-a", "-o", "json"); err == nil {
		t.Error("proxy -o json was accepted")
	}
}

// TestProxyNamesTheWayToRegister: proxy on a cluster that is not registered
// says it is not, and starts nothing.
func TestProxyNamesTheWayToRegister(t *testing.T) {
	fx := cmdtest.NewAddFixture(t)
	f := cmdtest.Factory(fx.Env)
	if err := (&ProxyOptions{IOStreams: f.IOStreams, Registry: f.Registry, Tunnels: f.Tunnels, Name: "nope", Listen: "127.0.0.1:0"}).Run(t.Context()); err == nil || !strings.Contains(err.Error(), "is registered") {
		t.Errorf("proxy on an unregistered cluster: %v", err)
	}
}
