package run

import (
	"slices"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdRunFlags(t *testing.T) {
	var got *RunOptions
	cmd := newCmdRun(cmdtest.Factory(nil), func(o *RunOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "--listen", "127.0.0.1:8001", "--", "kubectl", "get", "ns"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "cluster-a" || got.Listen != "127.0.0.1:8001" || !slices.Equal(got.Command, []string{"kubectl", "get", "ns"}) {
		t.Errorf("options = %+v", got)
	}
	err := cmdtest.Execute(newCmdRun(cmdtest.Factory(nil), func(*RunOptions) error { t.Fatal("ran"); return nil }), "cluster-a", "kubectl")
	if err == nil || !strings.Contains(err.Error(), "put -- between") {
		t.Errorf("run without --: %v", err)
	}
}

// TestRunNamesTheWayToRegister: run on a cluster that is not registered
// says how to register it, and starts nothing.
func TestRunNamesTheWayToRegister(t *testing.T) {
	f := cmdtest.Factory(map[string]string{"SECUREKAPI_CONFIG": t.TempDir() + "/clusters.yaml"})
	err := (&RunOptions{IOStreams: f.IOStreams, Environ: f.Environ, Registry: f.Registry, Tunnels: f.Tunnels, Name: "nope", Listen: "127.0.0.1:0", Command: []string{"true"}}).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), `no cluster "nope" is registered`) || !strings.Contains(err.Error(), "kubectl securekapi add") {
		t.Errorf("run on an unregistered cluster: %v", err)
	}
}
