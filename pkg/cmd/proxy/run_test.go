package proxy

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
)

// TestProxyServesUntilStopped: `proxy NAME` says where its routed
// kubeconfig is; kubectl's way of connecting with that kubeconfig reaches
// the pinned endpoint through the loopback proxy and the mTLS gateway;
// when the command's context ends (Ctrl-C) it stops, and the routed
// kubeconfig, which holds the proxy's per-run secret, is removed.
func TestProxyServesUntilStopped(t *testing.T) {
	f, gw := cmdtest.Tunneled(t, add.NewCmdAdd, use.NewCmdUse)
	g := cmdtest.Factory(f.Env)
	errR, errW := io.Pipe()
	g.ErrOut = errW
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- (&ProxyOptions{IOStreams: g.IOStreams, Registry: g.Registry, Tunnels: g.Tunnels, Name: "cluster-a", Listen: "127.0.0.1:0"}).Run(ctx)
		errW.Close()
	}()

	var kubeconfig string
	lines := bufio.NewScanner(errR)
	for kubeconfig == "" && lines.Scan() {
		if path, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "export KUBECONFIG="); ok {
			kubeconfig = path
		}
	}
	if kubeconfig == "" {
		t.Fatalf("proxy printed no kubeconfig to export; it ended with %v", <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, errR) }()
	before := gw.Connects.Load()
	answer, err := cmdtest.AskThrough(kubeconfig)
	if err != nil || !strings.Contains(answer, "endpoint answered 404 through http://securekapi:xxxxx@127.0.0.1:") {
		t.Errorf("through the proxy's kubeconfig: %q, %v", answer, err)
	}
	if gw.Connects.Load() == before {
		t.Error("the gateway relayed no CONNECT: the request did not go through the tunnel")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("proxy stopped with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("proxy did not stop when its context ended")
	}
	if _, err := os.Stat(kubeconfig); !os.IsNotExist(err) {
		t.Errorf("the routed kubeconfig %s is still there after the proxy stopped (%v)", kubeconfig, err)
	}
}
