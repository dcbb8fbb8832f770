package use

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/kuberc"
)

const gkeOnly = `# mine
apiVersion: kubectl.config.k8s.io/v1beta1
kind: Preference
credentialPluginPolicy: Allowlist
credentialPluginAllowlist:
- command: gke-gcloud-auth-plugin
`

// useWithKuberc runs `use cluster-a extra...` with KUBERC at a file holding
// content ("" for none), on a terminal or not, answering stdin; it returns
// stderr, the kuberc afterwards (nil if none) and the kuberc path.
func useWithKuberc(t *testing.T, content string, terminal bool, stdin string, extra ...string) (string, []byte, string) {
	t.Helper()
	f, kubeconfigPath, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	// Other credential plugins the kubeconfig runs: an allowlist turned on
	// keeps gke's, never a shell's.
	cfg, err := clientcmd.LoadFromFile(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos["gke"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "gke-gcloud-auth-plugin"}}
	cfg.AuthInfos["imported"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "sh", Args: []string{"-c", "id"}}}
	if err := clientcmd.WriteToFile(*cfg, kubeconfigPath); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kuberc")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	f.Env["KUBERC"] = path
	f.Env["HOME"] = t.TempDir()
	f.Env["SECUREKAPI_CACHE_DIR"] = filepath.Join(f.Env["HOME"], "cache") // --approve writes approvals here
	var out, errOut bytes.Buffer
	g := cmdtest.Factory(f.Env)
	g.In, g.Out, g.ErrOut, g.Kubeconfig = strings.NewReader(stdin), &out, &errOut, kubeconfigPath
	g.StdinIsTTY = terminal
	g.StderrIsTTY = terminal
	cmd := NewCmdUse(g)
	if err := cmdtest.Execute(cmd, append([]string{"cluster-a", "--approve"}, extra...)...); err != nil {
		t.Fatalf("use: %v\n%s", err, errOut.String())
	}
	after, err := os.ReadFile(path)
	if err != nil {
		after = nil
	}
	return errOut.String(), after, path
}

func allows(t *testing.T, path, command string) bool {
	t.Helper()
	f, err := kuberc.Read(kuberc.Location{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return f.Allows(command, func(string) (string, error) { return "", os.ErrNotExist }).Allowed
}

// TestUseOffersTheKubercAllowlist: use never edits kuberc silently. Under
// an allowlist that refuses the plugin it asks on a terminal, edits off one
// only with --kuberc-allow, and otherwise says in one line that kubectl
// will refuse and what fixes it. With no policy it turns one on only when
// --kuberc-allow asks, keeping the kubeconfig's other plugins but never a
// shell.
func TestUseOffersTheKubercAllowlist(t *testing.T) {
	t.Run("refused, no terminal, no flag: one line", func(t *testing.T) {
		errOut, after, _ := useWithKuberc(t, gkeOnly, false, "")
		if string(after) != gkeOnly {
			t.Errorf("kuberc changed without the flag:\n%s", after)
		}
		if !strings.Contains(errOut, "kubectl will refuse to run kubectl-securekapi") || !strings.Contains(errOut, "--kuberc-allow") {
			t.Errorf("stderr does not say kubectl will refuse and what fixes it:\n%s", errOut)
		}
	})
	t.Run("refused, no terminal, --kuberc-allow", func(t *testing.T) {
		errOut, after, path := useWithKuberc(t, gkeOnly, false, "", "--kuberc-allow")
		if !allows(t, path, "kubectl-securekapi") || !allows(t, path, "gke-gcloud-auth-plugin") || !strings.Contains(string(after), "# mine") {
			t.Errorf("kuberc after --kuberc-allow:\n%s", after)
		}
		if !strings.Contains(errOut, "add kubectl-securekapi to credentialPluginAllowlist") || !strings.Contains(errOut, "Updated "+path) {
			t.Errorf("stderr does not show the change:\n%s", errOut)
		}
		if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640 { // no Unix modes on Windows
			t.Errorf("kuberc mode %v, want its own 0640", fi.Mode().Perm())
		}
	})
	t.Run("refused, terminal, yes", func(t *testing.T) {
		errOut, _, path := useWithKuberc(t, gkeOnly, true, "y\n")
		if !allows(t, path, "kubectl-securekapi") || !strings.Contains(errOut, "Change it? [y/N]") {
			t.Errorf("the answer y did not allow the plugin:\n%s", errOut)
		}
	})
	t.Run("refused, terminal, no", func(t *testing.T) {
		errOut, after, _ := useWithKuberc(t, gkeOnly, true, "\n")
		if string(after) != gkeOnly || !strings.Contains(errOut, "Not changed. kubectl will refuse to run kubectl-securekapi") {
			t.Errorf("declined, yet:\n%s\n%s", after, errOut)
		}
	})
	t.Run("DenyAll, --kuberc-allow: ours only", func(t *testing.T) {
		deny := "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: DenyAll\n"
		_, _, path := useWithKuberc(t, deny, false, "", "--kuberc-allow")
		if !allows(t, path, "kubectl-securekapi") || allows(t, path, "gke-gcloud-auth-plugin") {
			t.Error("DenyAll became more than an allowlist of kubectl-securekapi")
		}
	})
	t.Run("no kuberc, terminal: a hint, no file", func(t *testing.T) {
		errOut, after, _ := useWithKuberc(t, "", true, "")
		if after != nil {
			t.Errorf("a kuberc was created without the flag:\n%s", after)
		}
		if !strings.Contains(errOut, "Hint: kubectl runs any credential plugin") || linesWith(errOut, "allowlist") != 1 {
			t.Errorf("want one hint line:\n%s", errOut)
		}
	})
	t.Run("no kuberc, no terminal: quiet", func(t *testing.T) {
		errOut, after, _ := useWithKuberc(t, "", false, "")
		if after != nil || strings.Contains(errOut, "allowlist") || strings.Contains(errOut, "Hint") {
			t.Errorf("kuberc %q, stderr:\n%s", after, errOut)
		}
	})
	t.Run("no kuberc, --kuberc-allow: an allowlist keeping the other plugins", func(t *testing.T) {
		errOut, after, path := useWithKuberc(t, "", false, "", "--kuberc-allow")
		if !allows(t, path, "kubectl-securekapi") || !allows(t, path, "gke-gcloud-auth-plugin") || allows(t, path, "sh") {
			t.Errorf("the new kuberc:\n%s", after)
		}
		if !strings.Contains(errOut, "keep allowing the credential plugins your kubeconfig runs: gke-gcloud-auth-plugin") || !strings.Contains(errOut, `Not kept in the allowlist: "sh"`) {
			t.Errorf("stderr does not say what was kept and what not:\n%s", errOut)
		}
		if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 { // no Unix modes on Windows
			t.Errorf("new kuberc mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("already allowed: nothing", func(t *testing.T) {
		ok := gkeOnly + "- command: kubectl-securekapi\n"
		errOut, after, _ := useWithKuberc(t, ok, true, "")
		if string(after) != ok || strings.Contains(errOut, "allowlist") || strings.Contains(errOut, "Hint") || strings.Contains(errOut, "refuse") {
			t.Errorf("kuberc %q, stderr:\n%s", after, errOut)
		}
	})
}

func linesWith(s, sub string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}
