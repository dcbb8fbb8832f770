package run

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// childMarker, after "--" on the test binary's command line, makes
// TestRunChildReachesTheEndpoint the child `run` starts, not a test.
const childMarker = "securekapi-run-child"

// TestRunReachesTheEndpointThroughTheTunnel: `run NAME -- COMMAND` starts
// the loopback proxy, and COMMAND reaches the pinned endpoint through it
// and the mTLS gateway with the kubeconfig it is given; then the proxy
// stops and COMMAND's exit code is run's.
func TestRunReachesTheEndpointThroughTheTunnel(t *testing.T) {
	f, gw := cmdtest.Tunneled(t, add.NewCmdAdd, use.NewCmdUse)
	before := gw.Connects.Load()
	out, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdRun, "cluster-a", "--", os.Args[0], "-test.run=^TestRunChildReachesTheEndpoint$", "--", childMarker)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "endpoint answered 404 through http://securekapi:xxxxx@127.0.0.1:") {
		t.Errorf("the command did not reach the endpoint through the loopback proxy:\n%s\n%s", out, errOut)
	}
	if gw.Connects.Load() == before {
		t.Error("the gateway relayed no CONNECT: the command's traffic did not go through the tunnel")
	}
	exit7 := []string{"sh", "-c", "exit 7"}
	if runtime.GOOS == "windows" {
		exit7 = []string{"cmd", "/c", "exit 7"}
	}
	_, _, err = cmdtest.RunWithEnv(t, f.Env, NewCmdRun, append([]string{"cluster-a", "--"}, exit7...)...)
	if exit := (*cmdutil.ExitError)(nil); !errors.As(err, &exit) || exit.Code != 7 {
		t.Errorf("run of a command exiting 7: %v (want exit code 7)", err)
	}
}

// TestRunChildReachesTheEndpoint is the command `run` starts in the test
// above: it asks the endpoint as kubectl would with $KUBECONFIG.
func TestRunChildReachesTheEndpoint(t *testing.T) {
	if a := flag.Args(); len(a) == 0 || a[len(a)-1] != childMarker {
		t.Skip("the child of TestRunReachesTheEndpointThroughTheTunnel")
	}
	answer, err := cmdtest.AskThrough(os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(answer)
}
