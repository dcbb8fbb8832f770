package cmd

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/credential/approval"
)

// TestUseCIWritesAStanzaThatNeedsNoPerson: `use NAME --ci github` writes
// the grant and its source into the exec stanza, never interactive, with
// GitHub's issuer and the cluster's server as the audience, and approves
// the CI grant (its own key, not the person's login).
func TestUseCIWritesAStanzaThatNeedsNoPerson(t *testing.T) {
	f, kubeconfig, _ := usable(t, 0o600)
	f.env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	_, errOut, err := runWithEnv(t, f.env, NewCmdUse, "cluster-a", "--ci", "github", "--approve")
	if err != nil || !strings.Contains(errOut, "by grant ci-token with no person") {
		t.Fatalf("use --ci github: %v\n%s", err, errOut)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	exec := cfg.AuthInfos[userName("cluster-a")].Exec
	if exec.InteractiveMode != clientcmdapi.NeverExecInteractiveMode {
		t.Errorf("interactiveMode = %s", exec.InteractiveMode)
	}
	server := cfg.Clusters["cluster-a"].Server
	for _, pair := range [][2]string{{"--grant", "ci-token"}, {"--ci-token-source", "github"},
		{"--oidc-issuer-url", GitHubActionsIssuer}, {"--oidc-client-id", server}} {
		i := slices.Index(exec.Args, pair[0])
		if i < 0 || i+1 >= len(exec.Args) || exec.Args[i+1] != pair[1] {
			t.Errorf("exec args lack %s %s: %v", pair[0], pair[1], exec.Args)
		}
	}
	var a AccessFlags
	if _, err := a.ParseExecArgs(exec.Args[1:]); err != nil {
		t.Fatal(err)
	}
	b, _ := a.Binding()
	file, err := (&approval.Store{Path: approval.PathIn(f.env["SECUREKAPI_CACHE_DIR"])}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if !file.Allows(a.Key().ID(), b.ApprovalTarget()) {
		t.Error("the CI grant was not approved")
	}
}

// TestUseCIRefusesIncompleteSettings: each gap is named before anything
// is written.
func TestUseCIRefusesIncompleteSettings(t *testing.T) {
	f, kubeconfig, before := usable(t, 0o600)
	f.env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ci", "gitlab"}, "needs --ci-issuer-url"},
		{[]string{"--ci", "gitlab", "--ci-issuer-url", "https://gitlab.example.com"}, "needs --ci-token-var"},
		{[]string{"--ci-grant", "token-exchange"}, "needs --ci SOURCE"},
		{[]string{"--ci-grant", "client-credentials"}, "needs --ci-client-id"},
		{[]string{"--ci-grant", "client-credentials", "--ci-client-id", "deployer"}, "exactly one of --client-secret-file"},
		{[]string{"--ci", "jenkins", "--ci-issuer-url", "https://j"}, `"jenkins"`},
	} {
		_, _, err := runWithEnv(t, f.env, NewCmdUse, append([]string{"cluster-a", "--approve"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("use %v: err = %v, want %q", c.args, err, c.want)
		}
		if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
			t.Fatalf("use %v changed the kubeconfig", c.args)
		}
	}
}

// TestUseCIAutoServesAPersonAndAJob: --ci-grant auto keeps the person's
// stanza (interactive if available, the cluster's issuer) with the CI
// source, and approves both the person's login and the CI exchange.
func TestUseCIAutoServesAPersonAndAJob(t *testing.T) {
	f, kubeconfig, _ := usable(t, 0o600)
	f.env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	if _, errOut, err := runWithEnv(t, f.env, NewCmdUse, "cluster-a", "--ci", "github", "--ci-grant", "auto", "--approve"); err != nil {
		t.Fatalf("use: %v\n%s", err, errOut)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	exec := cfg.AuthInfos[userName("cluster-a")].Exec
	if exec.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode {
		t.Errorf("interactiveMode = %s", exec.InteractiveMode)
	}
	var a AccessFlags
	if _, err := a.ParseExecArgs(exec.Args[1:]); err != nil {
		t.Fatal(err)
	}
	if a.Grant != "auto" || a.Issuer != f.issuer {
		t.Errorf("grant %s, issuer %s", a.Grant, a.Issuer)
	}
	b, _ := a.Binding()
	file, err := (&approval.Store{Path: approval.PathIn(f.env["SECUREKAPI_CACHE_DIR"])}).Load()
	if err != nil {
		t.Fatal(err)
	}
	person := a.Key()
	a.ResolveAuto(func(k string) string {
		return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}[k]
	})
	for name, key := range map[string]string{"person": person.ID(), "CI job": a.Key().ID()} {
		if !file.Allows(key, b.ApprovalTarget()) {
			t.Errorf("the %s's login was not approved", name)
		}
	}
}
