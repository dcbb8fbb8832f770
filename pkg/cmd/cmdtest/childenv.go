package cmdtest

import (
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// ChildEnv runs `newCmd cluster -- sh -c ...` (run or shell) with
// SECUREKAPI_TEST_GIVEN=given in env and SECUREKAPI_TEST_PROCESS_ONLY set in
// the test process alone, and returns what the child saw of the two and of
// KUBECONFIG, one field each: the probe of a command that must hand its child
// the Factory's environment, not the test process's.
func ChildEnv(t *testing.T, env map[string]string, newCmd func(*cmdutil.Factory) *cobra.Command, cluster string) (fields []string, out string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the child is sh printing its environment, and Windows has no sh")
	}
	t.Setenv("SECUREKAPI_TEST_PROCESS_ONLY", "leaked")
	env["SECUREKAPI_TEST_GIVEN"] = "given"
	out, errOut, err := RunWithEnv(t, env, newCmd, cluster, "--", "sh", "-c",
		`printf '%s|%s|%s\n' "$SECUREKAPI_TEST_GIVEN" "$SECUREKAPI_TEST_PROCESS_ONLY" "$KUBECONFIG"`)
	if err != nil {
		t.Fatalf("the command with its child: %v\n%s", err, errOut)
	}
	return strings.Split(strings.TrimSpace(out), "|"), out
}
