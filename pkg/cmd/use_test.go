package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// usable registers cluster-a and gives a kubeconfig holding another
// context, the state `use` starts from.
func usable(t *testing.T, mode os.FileMode) (*addFixture, string, []byte) {
	t.Helper()
	f := newAddFixture(t, "email")
	if _, errOut, err := runWithEnv(t, f.env, NewCmdAdd, f.args("cluster-a")...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	kubeconfig := writeKubeconfig(t, "https://other.example.com", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	if err := os.Chmod(kubeconfig, mode); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(kubeconfig)
	f.env["KUBECONFIG"] = kubeconfig
	return f, kubeconfig, before
}

// TestUseRefusesBadExecSettings: the exec stanza is checked before it is
// written, so a typo cannot leave kubectl with a plugin that fails on
// every call.
func TestUseRefusesBadExecSettings(t *testing.T) {
	f, kubeconfig, before := usable(t, 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--token-cache", "bogus"}, `--token-cache: unknown token cache "bogus"`},
		{[]string{"--exec-command", ""}, "--exec-command is empty"},
		{[]string{"--exec-command", "  "}, "--exec-command is empty"},
	} {
		_, _, err := runWithEnv(t, f.env, NewCmdUse, append([]string{"cluster-a"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("use %v: err = %v, want %q", c.args, err, c.want)
		}
		if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
			t.Fatalf("use %v changed the kubeconfig", c.args)
		}
	}
	// The good values still work.
	_, errOut, err := runWithEnv(t, f.env, NewCmdUse, "cluster-a", "--token-cache", "file")
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
	f, kubeconfig, before := usable(t, 0o444)
	_, _, err := runWithEnv(t, f.env, NewCmdUse, "cluster-a")
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
