package cmdutil

import (
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfig loads the kubeconfig cluster with client-go's rules
// (--kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context), for the
// platform-owner commands that talk to the cluster; timeout applies when
// the kubeconfig sets none.
func restConfig(f *Factory, timeout time.Duration) (*rest.Config, error) {
	files, err := f.KubeconfigStore().Files()
	if err != nil {
		return nil, err
	}
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: files}
	if f.Kubeconfig != "" {
		rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: f.Kubeconfig}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: f.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot find the cluster in your kubeconfig (%v): pass --kubeconfig and --context", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = timeout
	}
	return cfg, nil
}
