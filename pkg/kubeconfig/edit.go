package kubeconfig

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd/api"
)

// The helpers below edit a config in memory, typically inside Modify's
// mutate. Each keeps the extensions of an entry it replaces when the new
// value brings none, because other tools store their metadata there.

// SetCluster adds or replaces the named cluster.
func SetCluster(cfg *api.Config, name string, c *api.Cluster) {
	if cfg.Clusters == nil {
		cfg.Clusters = map[string]*api.Cluster{}
	}
	c = c.DeepCopy()
	if old, ok := cfg.Clusters[name]; ok && len(c.Extensions) == 0 {
		c.Extensions = old.Extensions
	}
	cfg.Clusters[name] = c
}

// SetExecUser makes the named user authenticate only through exec. Any token,
// client certificate or auth-provider it had is dropped: kubectl refuses a
// user with both exec and auth-provider, and a token would be sent instead of
// the exec credential.
func SetExecUser(cfg *api.Config, name string, exec *api.ExecConfig) {
	if cfg.AuthInfos == nil {
		cfg.AuthInfos = map[string]*api.AuthInfo{}
	}
	user := &api.AuthInfo{Exec: exec.DeepCopy(), Extensions: map[string]runtime.Object{}}
	if old, ok := cfg.AuthInfos[name]; ok && len(old.Extensions) > 0 {
		user.Extensions = old.Extensions
	}
	cfg.AuthInfos[name] = user
}

// SetContext adds the named context or points it at cluster, user and
// namespace.
func SetContext(cfg *api.Config, name, cluster, user, namespace string) {
	if cfg.Contexts == nil {
		cfg.Contexts = map[string]*api.Context{}
	}
	c := api.NewContext()
	if old, ok := cfg.Contexts[name]; ok {
		c = old.DeepCopy()
	}
	c.Cluster, c.AuthInfo, c.Namespace = cluster, user, namespace
	cfg.Contexts[name] = c
}

// SwitchContext makes name the current context and returns the one it
// replaces, for `use -`.
func SwitchContext(cfg *api.Config, name string) (previous string, err error) {
	if _, ok := cfg.Contexts[name]; !ok {
		return "", fmt.Errorf("context %q is not in the kubeconfig (contexts: %v); `kubectl config get-contexts` lists them", name, contextNames(cfg))
	}
	previous, cfg.CurrentContext = cfg.CurrentContext, name
	return previous, nil
}

func contextNames(cfg *api.Config) []string {
	names := make([]string, 0, len(cfg.Contexts))
	for n := range cfg.Contexts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
