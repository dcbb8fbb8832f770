// Command kube-apiserver is the real Kubernetes API server, built from the Go
// module proxy so the end-to-end stack needs no prebuilt binary.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
