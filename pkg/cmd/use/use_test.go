package use

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
)

// TestUseRefusesBadExecSettings: the exec stanza is checked before it is
// written, so a typo cannot leave kubectl with a plugin that fails on
// every call.
func TestUseRefusesBadExecSettings(t *testing.T) {
	f, kubeconfig, before := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--token-cache", "bogus"}, `--token-cache: unknown token cache "bogus"`},
		{[]string{"--exec-command", ""}, "--exec-command is empty"},
		{[]string{"--exec-command", "  "}, "--exec-command is empty"},
	} {
		_, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, append([]string{"cluster-a"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("use %v: err = %v, want %q", c.args, err, c.want)
		}
		if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
			t.Fatalf("use %v changed the kubeconfig", c.args)
		}
	}
	// The good values still work.
	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--token-cache", "file")
	if err != nil || !strings.Contains(errOut, "Switched to cluster-a") {
		t.Fatalf("use: %v\n%s", err, errOut)
	}
	if now, _ := os.ReadFile(kubeconfig); !bytes.Contains(now, []byte("--token-cache")) {
		t.Errorf("the exec stanza lacks --token-cache:\n%s", now)
	}
}

// TestUseRefusesAReadOnlyKubeconfig: chmod 0444 is respected, with the
// reason, and the file keeps every byte.
func TestUseRefusesAReadOnlyKubeconfig(t *testing.T) {
	f, kubeconfig, before := cmdtest.Usable(t, add.NewCmdAdd, 0o444)
	_, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a")
	if err == nil || !strings.Contains(err.Error(), "is read-only (mode 0444)") {
		t.Fatalf("use on a 0444 kubeconfig: err = %v", err)
	}
	now, _ := os.ReadFile(kubeconfig)
	st, _ := os.Stat(kubeconfig)
	if !bytes.Equal(now, before) || st.Mode().Perm() != 0o444 {
		t.Errorf("the read-only kubeconfig changed (mode %v)", st.Mode().Perm())
	}
	if strays, _ := filepath.Glob(filepath.Join(filepath.Dir(kubeconfig), ".*tmp-*")); len(strays) > 0 {
		t.Errorf("temp files left: %v", strays)
	}
}

// currentContext reads kubeconfig's current-context.
func currentContext(t *testing.T, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.CurrentContext
}

// TestUseSwitchBackIsPerKubeconfig: `use -` under one kubeconfig goes back
// to the context that kubeconfig had, whatever `use` did in another.
func TestUseSwitchBackIsPerKubeconfig(t *testing.T) {
	f, first, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	second := cmdtest.WriteKubeconfig(t, "https://other.example.com", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	// The second kubeconfig's own context has another name.
	data, _ := os.ReadFile(second)
	if err := os.WriteFile(second, bytes.ReplaceAll(data, []byte("ctx"), []byte("other-ctx")), 0o600); err != nil {
		t.Fatal(err)
	}
	envFor := func(kubeconfig string) map[string]string {
		env := maps.Clone(f.Env)
		env["KUBECONFIG"] = kubeconfig
		return env
	}
	for _, k := range []string{first, second} {
		if _, errOut, err := cmdtest.RunWithEnv(t, envFor(k), NewCmdUse, "cluster-a"); err != nil {
			t.Fatalf("use cluster-a with %s: %v\n%s", k, err, errOut)
		}
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, envFor(first), NewCmdUse, "-"); err != nil {
		t.Fatalf("use - with the first kubeconfig: %v\n%s", err, errOut)
	}
	if got := currentContext(t, first); got != "ctx" {
		t.Errorf("use - in the first kubeconfig switched to %q, want its own previous context ctx", got)
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, envFor(second), NewCmdUse, "-"); err != nil {
		t.Fatalf("use - with the second kubeconfig: %v\n%s", err, errOut)
	}
	if got := currentContext(t, second); got != "other-ctx" {
		t.Errorf("use - in the second kubeconfig switched to %q, want other-ctx", got)
	}
	// And back again: `use -` records where it came from, per kubeconfig.
	if _, errOut, err := cmdtest.RunWithEnv(t, envFor(first), NewCmdUse, "-"); err != nil || currentContext(t, first) != "cluster-a" {
		t.Errorf("second use - in the first kubeconfig: %v, current %q\n%s", err, currentContext(t, first), errOut)
	}
}

// TestUseSwitchesToAnUnregisteredContextWithoutPinning: a context that is
// in kubeconfig but not registered is only made current: its cluster, user
// and CA stay byte for byte, and use says nothing was verified or pinned.
func TestUseSwitchesToAnUnregisteredContextWithoutPinning(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a"); err != nil {
		t.Fatalf("use cluster-a: %v\n%s", err, errOut)
	}
	before, _ := clientcmd.LoadFromFile(kubeconfig)
	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "ctx")
	if err != nil {
		t.Fatalf("use ctx (in kubeconfig, not registered): %v\n%s", err, errOut)
	}
	after, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if after.CurrentContext != "ctx" {
		t.Errorf("current context = %q, want ctx", after.CurrentContext)
	}
	after.CurrentContext = before.CurrentContext
	if !apiequality.Semantic.DeepEqual(before, after) {
		t.Errorf("use of an unregistered context changed more than the current context")
	}
	for _, want := range []string{"not a registered securekapi cluster", "not verified", "nothing was pinned", "kubectl securekapi add ctx"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("use did not say %q:\n%s", want, errOut)
		}
	}
	if _, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "-"); err != nil || currentContext(t, kubeconfig) != "cluster-a" {
		t.Errorf("use - after switching to the unregistered context: %v, current %q", err, currentContext(t, kubeconfig))
	}

	t.Run("neither registered nor in kubeconfig", func(t *testing.T) {
		before, _ := os.ReadFile(kubeconfig)
		_, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "nowhere")
		if err == nil || !strings.Contains(err.Error(), "kubectl securekapi add nowhere") {
			t.Errorf("use nowhere: err = %v", err)
		}
		if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
			t.Errorf("kubeconfig changed")
		}
	})
	t.Run("a name add would refuse", func(t *testing.T) {
		_, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "../x")
		if err == nil || strings.Contains(err.Error(), "add ../x") || !strings.Contains(err.Error(), "kubectl securekapi add NAME") {
			t.Errorf("use ../x: err = %v; want the add hint without a name add rejects", err)
		}
	})
}

// TestUseSwitchBackSaysWhyItCannotReadThePrevious: a previous-context
// record that cannot be read is reported as that, not as "none recorded",
// which would send the user looking in the wrong place.
func TestUseSwitchBackSaysWhyItCannotReadThePrevious(t *testing.T) {
	f, kubeconfigFile, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a"); err != nil {
		t.Fatalf("use cluster-a: %v\n%s", err, errOut)
	}
	store, err := kubeconfig.PreviousContextFor(filepath.Dir(f.RegistryPath), []string{kubeconfigFile})
	if err != nil {
		t.Fatal(err)
	}
	if prev, err := store.Get(); err != nil || prev != "ctx" {
		t.Fatalf("the record holds %q (%v); the test looks at the wrong file", prev, err)
	}
	if err := os.Remove(store.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(store.Path, 0o700); err != nil { // unreadable as a file
		t.Fatal(err)
	}
	_, _, err = cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "-")
	if err == nil || !strings.Contains(err.Error(), "read previous context") || strings.Contains(err.Error(), "no previous context recorded") {
		t.Errorf("use - with an unreadable record: %v", err)
	}
}
