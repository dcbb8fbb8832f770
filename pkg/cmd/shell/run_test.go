package shell

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// used registers cluster-a and writes it to a kubeconfig with `use`; it
// skips on Windows, whose shells these tests do not start.
func used(t *testing.T) (*cmdtest.AddFixture, string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the commands are sh and /bin/true, which Windows lacks")
	}
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "cluster-a"); err != nil {
		t.Fatalf("use: %v\n%s", err, errOut)
	}
	return f, kubeconfig
}

// TestShellRunsOnAPrivateKubeconfig: `shell NAME -- COMMAND` runs COMMAND
// with KUBECONFIG at a kubeconfig of NAME's context alone, current, with
// SECUREKAPI_CLUSTER=NAME; the user's kubeconfig is untouched, the private
// one is gone afterwards, and COMMAND's exit code is the command's.
func TestShellRunsOnAPrivateKubeconfig(t *testing.T) {
	f, kubeconfig := used(t)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "-"); err != nil { // back to the other context
		t.Fatalf("use -: %v\n%s", err, errOut)
	}
	before, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}

	script := `printf '%s\n%s\n' "$KUBECONFIG" "$` + ClusterEnv + `"; cat "$KUBECONFIG" > "$0.copy"; exit 3`
	copyBase := t.TempDir() + "/seen"
	out, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdShell, "cluster-a", "--", "sh", "-c", script, copyBase)
	var exit *cmdutil.ExitError
	if !errors.As(err, &exit) || exit.Code != 3 {
		t.Fatalf("shell: err = %v (want the command's exit code 3)\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[1] != "cluster-a" || lines[0] == kubeconfig {
		t.Fatalf("the command saw KUBECONFIG and %s = %q", ClusterEnv, lines)
	}
	if _, err := os.Stat(lines[0]); !os.IsNotExist(err) {
		t.Errorf("the private kubeconfig %s is still there after the command (%v)", lines[0], err)
	}
	seen, err := clientcmd.LoadFromFile(copyBase + ".copy")
	if err != nil {
		t.Fatal(err)
	}
	if seen.CurrentContext != "cluster-a" || len(seen.Contexts) != 1 || len(seen.Clusters) != 1 || len(seen.AuthInfos) != 1 {
		t.Errorf("the private kubeconfig holds current %q and %d contexts, %d clusters, %d users; want cluster-a alone",
			seen.CurrentContext, len(seen.Contexts), len(seen.Clusters), len(seen.AuthInfos))
	}
	if c := seen.Clusters[seen.Contexts["cluster-a"].Cluster]; c == nil || c.ProxyURL != "" || len(c.CertificateAuthorityData) == 0 {
		t.Errorf("the private kubeconfig's cluster is %+v; want the pinned entry `use` wrote, with no tunnel", c)
	}
	after, _ := os.ReadFile(kubeconfig)
	if string(after) != string(before) {
		t.Errorf("shell changed the user's kubeconfig:\n%s\n---\n%s", before, after)
	}
}

// stderrWatch is shell's stderr: when the line that says the kubeconfig is
// removed arrives, it records whether the kubeconfig the first line named
// is indeed gone by then.
type stderrWatch struct {
	text          strings.Builder
	goneWhenSaid  bool
	saidRemovedAt int
}

func (w *stderrWatch) Write(p []byte) (int, error) {
	w.text.Write(p)
	if s := w.text.String(); strings.Contains(s, "its kubeconfig is removed") && w.saidRemovedAt == 0 {
		w.saidRemovedAt = len(s)
		_, rest, _ := strings.Cut(s, "KUBECONFIG=")
		path, _, _ := strings.Cut(rest, ",")
		_, err := os.Stat(filepath.Dir(path))
		w.goneWhenSaid = os.IsNotExist(err)
	}
	return len(p), nil
}

// TestShellSaysRemovedOnlyOnceRemoved: "Left the shell; its kubeconfig is
// removed" is said when it is true, so a person (or a script, as the e2e
// test does) that reads it and looks finds no private kubeconfig left.
func TestShellSaysRemovedOnlyOnceRemoved(t *testing.T) {
	f, _ := used(t)
	f.Env["SHELL"] = "/bin/true"
	g := cmdtest.Factory(f.Env)
	var errOut stderrWatch
	g.ErrOut, g.Kubeconfig = &errOut, f.Env["KUBECONFIG"]
	if err := cmdtest.Execute(NewCmdShell(g), "cluster-a"); err != nil {
		t.Fatalf("shell: %v\n%s", err, errOut.text.String())
	}
	if errOut.saidRemovedAt == 0 || !errOut.goneWhenSaid {
		t.Errorf("said the kubeconfig is removed (%v) while it was still there:\n%s", errOut.saidRemovedAt != 0, errOut.text.String())
	}
}
