// Command libraries-k8s is the libraries floor plus the Kubernetes
// libraries the project brief prescribes: client-go's clientcmd for
// kubeconfig and its clientauthentication types for ExecCredential (and
// cli-runtime's IOStreams). Go runs every linked package's init before
// main, whatever the subcommand, so this is the floor for a binary that
// uses them anywhere.
package main

import (
	"os"

	_ "k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	_ "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"
	_ "k8s.io/client-go/tools/clientcmd"

	_ "github.com/securekapi/securekapi/test/e2e/cmd/bench-credential/floor/libs"
)

func main() { _, _ = os.Stdout.WriteString("{}\n") }
