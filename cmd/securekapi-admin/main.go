// Command securekapi-admin is the platform owner's program: the commands
// that build, check and judge with kube-apiserver's own code, which links
// grpc, OpenTelemetry and Prometheus (k8s.io/apiserver). Today that is
// `expose authn-config`. Users reach it as `kubectl securekapi expose
// authn-config ...`: the full CLI (securekapi) answers help, completion and
// flag mistakes itself and hands the call over unchanged to this binary,
// found next to it (pkg/handover), so that every other command starts
// without those libraries. Its tree parses the call as the full CLI does:
// the same root flags, under the same command path.
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/cmd"
	"github.com/securekapi/securekapi/pkg/cmd/authnconfigcmd/work"
	"github.com/securekapi/securekapi/pkg/cmd/versioncmd"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/handover"
)

func main() {
	// The name the user ran (kubectl-securekapi or securekapi), for help
	// and errors; this program hands nothing over, so the variable stays
	// set, and a full CLI misnamed securekapi-admin refuses to loop.
	program := handover.InvokedAs(os.Getenv(handover.AdminEnv), os.Args[0])
	os.Exit(cmd.ExecuteTree(cmd.ProcessStreams(), program, newRoot))
}

// newRoot is the full CLI's root with only the commands that live here.
func newRoot(g *cmdutil.Factory) *cobra.Command {
	root := cmd.NewCmdBareRoot(g)
	root.Short = "securekapi's platform owner commands that run kube-apiserver's own code"
	root.Long = `securekapi-admin runs the platform owner's commands that link kube-apiserver's
own code: expose authn-config. kubectl securekapi hands these commands to it, so
users run them as "kubectl securekapi expose authn-config ...".`
	root.Example = ""
	// Completion is the full CLI's, which has this program's flags too.
	root.CompletionOptions.DisableDefaultCmd = true
	expose := &cobra.Command{
		Use:   "expose",
		Short: "For platform owners: commands about the trusted endpoint's cluster",
		Args:  cobra.NoArgs,
	}
	expose.AddCommand(work.NewCmdAuthnConfig(g))
	root.AddCommand(versioncmd.NewCmdVersion(g), expose)
	return root
}
