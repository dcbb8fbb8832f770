package main

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// serverLibraries are what k8s.io/apiserver links for a server's metrics,
// tracing and RPC: their package init (Prometheus' registries, the
// component-base metrics) runs before main in every process that links
// them, whatever the command.
var serverLibraries = []string{"google.golang.org/grpc", "go.opentelemetry.io/", "github.com/prometheus/", "k8s.io/apiserver/"}

// TestEverydayCLILinksNoServerLibrary: use, login, status and every
// refresh run in this binary, so it links none of kube-apiserver's code;
// `expose authn-config`, which needs it, runs in securekapi-admin
// (pkg/cmd/authnconfigcmd hands the call over). An import of
// pkg/authnconfig/kubeapiserver, or of k8s.io/apiserver's API types, from
// any package this binary links would bring them all back.
func TestEverydayCLILinksNoServerLibrary(t *testing.T) {
	if found := linked(t, ".", serverLibraries...); len(found) > 0 {
		t.Errorf("cmd/securekapi links %q; keep kube-apiserver's code in securekapi-admin (pkg/authnconfig/kubeapiserver, pkg/cmd/authnconfigcmd/work)", found)
	}
	// The rule is not vacuous: the admin program links what this one must not.
	if found := linked(t, "../securekapi-admin", "k8s.io/apiserver/", "github.com/securekapi/securekapi/pkg/authnconfig/kubeapiserver"); len(found) < 2 {
		t.Errorf("cmd/securekapi-admin links only %q of kube-apiserver's code; expose authn-config's work lives there", found)
	}
}

// linked lists the packages the main package in dir links whose path starts
// with one of prefixes.
func linked(t *testing.T, dir string, prefixes ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil && runtime.GOOS == "windows" {
		t.Skip("runs the go command, which this Windows machine lacks")
	}
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", dir, err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps %s listed only %q", dir, deps)
	}
	var found []string
	for _, d := range deps {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(d, p) }) {
			found = append(found, d)
		}
	}
	return found
}
