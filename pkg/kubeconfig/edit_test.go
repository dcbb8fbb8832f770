package kubeconfig

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd/api"
)

func TestSetClusterKeepsOtherToolsExtensions(t *testing.T) {
	cfg := api.NewConfig()
	ext := &runtime.Unknown{Raw: []byte(`{}`)}
	cfg.Clusters["c"] = &api.Cluster{Server: "https://old", Extensions: map[string]runtime.Object{"tool": ext}}
	SetCluster(cfg, "c", &api.Cluster{Server: "https://new"})
	if got := cfg.Clusters["c"]; got.Server != "https://new" || got.Extensions["tool"] != ext {
		t.Errorf("cluster = %+v, want the new server and the old extension", got)
	}
}

func TestSetClusterCopiesItsArgument(t *testing.T) {
	cfg := &api.Config{} // nil maps, as a hand-built config may have
	c := &api.Cluster{Server: "https://a"}
	SetCluster(cfg, "c", c)
	c.Server = "https://changed-later"
	if cfg.Clusters["c"].Server != "https://a" {
		t.Error("SetCluster stored the caller's pointer")
	}
}

func TestSetExecUserDropsOtherCredentials(t *testing.T) {
	cfg := api.NewConfig()
	cfg.AuthInfos["u"] = &api.AuthInfo{Token: "t", AuthProvider: &api.AuthProviderConfig{Name: "oidc"}, ClientKeyData: []byte("k")}
	SetExecUser(cfg, "u", &api.ExecConfig{Command: "kubectl-securekapi"})
	u := cfg.AuthInfos["u"]
	if u.Exec == nil || u.Exec.Command != "kubectl-securekapi" || u.Token != "" || u.AuthProvider != nil || u.ClientKeyData != nil {
		t.Errorf("user = %+v, want only the exec stanza", u)
	}
}

func TestSetContextUpdatesInPlace(t *testing.T) {
	cfg := api.NewConfig()
	ext := &runtime.Unknown{Raw: []byte(`{}`)}
	cfg.Contexts["c"] = &api.Context{Cluster: "old", AuthInfo: "old", Extensions: map[string]runtime.Object{"tool": ext}}
	SetContext(cfg, "c", "cl", "us", "ns")
	got := cfg.Contexts["c"]
	if got.Cluster != "cl" || got.AuthInfo != "us" || got.Namespace != "ns" || got.Extensions["tool"] == nil {
		t.Errorf("context = %+v", got)
	}
	SetContext(cfg, "fresh", "cl", "us", "")
	if cfg.Contexts["fresh"].Extensions == nil {
		t.Error("a new context should have a writable Extensions map")
	}
}

func TestSwitchContext(t *testing.T) {
	cfg := api.NewConfig()
	cfg.Contexts["a"], cfg.Contexts["b"] = api.NewContext(), api.NewContext()
	cfg.CurrentContext = "a"
	prev, err := SwitchContext(cfg, "b")
	if err != nil || prev != "a" || cfg.CurrentContext != "b" {
		t.Fatalf("SwitchContext = %q, %v; current %q", prev, err, cfg.CurrentContext)
	}
	_, err = SwitchContext(cfg, "zzz")
	if err == nil || !strings.Contains(err.Error(), `context "zzz" is not in the kubeconfig (contexts: [a b])`) {
		t.Errorf("err = %v", err)
	}
	if cfg.CurrentContext != "b" {
		t.Error("a failed switch changed the current context")
	}
}

func TestPreviousContextStore(t *testing.T) {
	p := &PreviousContextStore{Path: filepath.Join(t.TempDir(), "state", "previous-context")}
	if got, err := p.Get(); err != nil || got != "" {
		t.Fatalf("Get before Set = %q, %v; want empty", got, err)
	}
	for _, name := range []string{"prod", " spaced name "} {
		if err := p.Set(name); err != nil {
			t.Fatal(err)
		}
		if got, err := p.Get(); err != nil || got != name {
			t.Errorf("Get = %q, %v; want %q", got, err, name)
		}
	}
	// Windows has no Unix modes.
	if got := mode(t, p.Path); goruntime.GOOS != "windows" && got != 0o600 {
		t.Errorf("mode = %o, want 0600", got)
	}
	if err := p.Set("a\nb"); err == nil {
		t.Error("Set accepted a name with a line break")
	}
	if _, err := os.Stat(p.Path + ".lock"); !os.IsNotExist(err) {
		t.Error("unexpected lock file")
	}
}
