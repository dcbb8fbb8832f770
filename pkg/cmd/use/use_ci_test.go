package use

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/profile"
)

// TestUseCIWritesAStanzaThatNeedsNoPerson: `use NAME --ci github` writes
// the grant and its source into the exec stanza, never interactive, with
// GitHub's issuer and the cluster's server as the audience, and approves
// the CI grant (its own key, not the person's login).
func TestUseCIWritesAStanzaThatNeedsNoPerson(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	f.Env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--ci", "github", "--approve")
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
		{"--oidc-issuer-url", ci.GitHubProvider.Issuer}, {"--oidc-client-id", server}} {
		i := slices.Index(exec.Args, pair[0])
		if i < 0 || i+1 >= len(exec.Args) || exec.Args[i+1] != pair[1] {
			t.Errorf("exec args lack %s %s: %v", pair[0], pair[1], exec.Args)
		}
	}
	var a cmdutil.AccessFlags
	if _, err := a.ParseExecArgs(exec.Args[1:]); err != nil {
		t.Fatal(err)
	}
	b, _ := a.Binding()
	file, err := (&binding.ApprovalStore{Path: binding.ApprovalsPathIn(f.Env["SECUREKAPI_CACHE_DIR"])}).Load()
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
	f, kubeconfig, before := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	f.Env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--ci", "gitlab"}, "records no gitlab issuer, so pass --ci-issuer-url"},
		{[]string{"--ci", "gitlab", "--ci-issuer-url", "https://gitlab.example.com"}, "needs --ci-token-var"},
		{[]string{"--ci-grant", "token-exchange"}, "needs --ci SOURCE"},
		{[]string{"--ci-grant", "client-credentials"}, "needs --ci-client-id"},
		{[]string{"--ci-grant", "client-credentials", "--ci-client-id", "deployer"}, "exactly one of --client-secret-file"},
		{[]string{"--ci", "jenkins", "--ci-issuer-url", "https://j"}, `"jenkins"`},
	} {
		_, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, append([]string{"cluster-a", "--approve"}, c.args...)...)
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
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	f.Env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--ci", "github", "--ci-grant", "auto", "--approve"); err != nil {
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
	var a cmdutil.AccessFlags
	if _, err := a.ParseExecArgs(exec.Args[1:]); err != nil {
		t.Fatal(err)
	}
	if a.Grant != "auto" || a.Issuer != f.Issuer {
		t.Errorf("grant %s, issuer %s", a.Grant, a.Issuer)
	}
	b, _ := a.Binding()
	file, err := (&binding.ApprovalStore{Path: binding.ApprovalsPathIn(f.Env["SECUREKAPI_CACHE_DIR"])}).Load()
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

// A cluster imported from a profile that records its CI issuer: `use --ci
// github` writes that issuer and audience, what the API server's
// authentication configuration trusts, without the owner's flags again.
func TestUseCITakesTheProfilesCIIssuer(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	f.Env["SECUREKAPI_CACHE_DIR"] = t.TempDir()
	const issuer, audience = "https://ci.example.test", "cluster-a-ci"
	if err := (&profile.Registry{Path: f.RegistryPath}).Update(func(p *profile.Profile) error {
		c, _ := p.Find("cluster-a")
		c.CI = []profile.CIIssuer{{Provider: "github", IssuerURL: issuer, Audience: audience}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--ci", "github", "--approve"); err != nil {
		t.Fatalf("use --ci github: %v\n%s", err, errOut)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(cfg.AuthInfos[userName("cluster-a")].Exec.Args, " ")
	if !strings.Contains(args, "--oidc-issuer-url "+issuer) || !strings.Contains(args, "--oidc-client-id "+audience) {
		t.Fatalf("exec args %s; want the profile's issuer and audience", args)
	}

	// GitLab's issuer is the instance: known from the profile, so no
	// --ci-issuer-url is needed either.
	const gitlab = "https://gitlab.example.test"
	if err := (&profile.Registry{Path: f.RegistryPath}).Update(func(p *profile.Profile) error {
		c, _ := p.Find("cluster-a")
		c.CI = append(c.CI, profile.CIIssuer{Provider: "gitlab", IssuerURL: gitlab, Audience: audience})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--ci", "gitlab", "--ci-token-var", "KAPI_ID_TOKEN", "--approve"); err != nil {
		t.Fatalf("use --ci gitlab: %v\n%s", err, errOut)
	}
	if cfg, err = clientcmd.LoadFromFile(kubeconfig); err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(cfg.AuthInfos[userName("cluster-a")].Exec.Args, " "); !strings.Contains(args, "--oidc-issuer-url "+gitlab) {
		t.Fatalf("exec args %s; want the profile's GitLab issuer", args)
	}
}
