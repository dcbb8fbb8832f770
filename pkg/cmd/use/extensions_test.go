package use

import (
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestUseKeepsOtherToolsExtensions, the kubectl way (create_context_test):
// a kubeconfig whose cluster-a entries carry another tool's extensions,
// plus preferences and an unrelated context; `use cluster-a` against a
// live TLS endpoint; reload and compare. use rewrites what it owns (server,
// CA, exec stanza, context, current-context) and keeps everything else,
// the extensions on the very entries it replaces included.
func TestUseKeepsOtherToolsExtensions(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	seed := `apiVersion: v1
kind: Config
preferences: {}
extensions:
- name: top-level.example.com
  extension: {team: platform}
clusters:
- name: cluster-a
  cluster:
    server: https://old.example.com
    extensions:
    - name: lens.example.com
      extension: {color: blue}
- name: c
  cluster: {server: https://other.example.com}
users:
- name: securekapi-cluster-a
  user:
    token: stale-token
    extensions:
    - name: vault.example.com
      extension: {role: ops}
- name: u
  user: {token: admin-token}
contexts:
- name: cluster-a
  context:
    cluster: cluster-a
    user: securekapi-cluster-a
    extensions:
    - name: kubie.example.com
      extension: {prompt: "[a]"}
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`
	if err := os.WriteFile(kubeconfig, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdUse, "cluster-a", "--approve"); err != nil {
		t.Fatalf("use cluster-a: %v\n%s", err, errOut)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}

	for what, got := range map[string]map[string]runtime.Object{
		"lens.example.com on the cluster":   cfg.Clusters["cluster-a"].Extensions,
		"vault.example.com on the user":     cfg.AuthInfos["securekapi-cluster-a"].Extensions,
		"kubie.example.com on the context":  cfg.Contexts["cluster-a"].Extensions,
		"top-level.example.com on the file": cfg.Extensions,
	} {
		name, _, _ := strings.Cut(what, " ")
		if _, ok := got[name]; !ok {
			t.Errorf("use dropped the extension %s (extensions now: %v)", what, got)
		}
	}
	if ext, ok := cfg.Clusters["cluster-a"].Extensions["lens.example.com"].(*runtime.Unknown); !ok || !strings.Contains(string(ext.Raw), "blue") {
		t.Errorf("the cluster's extension lost its content: %#v", cfg.Clusters["cluster-a"].Extensions["lens.example.com"])
	}

	// What use owns is rewritten.
	cluster, user := cfg.Clusters["cluster-a"], cfg.AuthInfos["securekapi-cluster-a"]
	if cluster.Server != f.Server || len(cluster.CertificateAuthorityData) == 0 {
		t.Errorf("cluster-a = server %s, %d bytes of CA; want %s and the verified CA", cluster.Server, len(cluster.CertificateAuthorityData), f.Server)
	}
	if user.Token != "" || user.Exec == nil || user.Exec.Command != "kubectl-securekapi" {
		t.Errorf("user: token %q, exec %+v; want only the securekapi exec stanza", user.Token, user.Exec)
	}
	if cfg.CurrentContext != "cluster-a" {
		t.Errorf("current-context = %q, want cluster-a", cfg.CurrentContext)
	}
	// What use does not own is untouched.
	want := &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	if got := cfg.Contexts["ctx"]; got.Cluster != want.Cluster || got.AuthInfo != want.AuthInfo || cfg.AuthInfos["u"].Token != "admin-token" {
		t.Errorf("the unrelated context or user changed: %+v, %+v", got, cfg.AuthInfos["u"])
	}
}
