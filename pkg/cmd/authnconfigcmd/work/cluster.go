package work

import (
	"context"
	"time"

	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/kubeapi"
)

// kubeconfigCluster asks the kubeconfig's cluster, through kubeapi.
type kubeconfigCluster struct {
	restConfig func(timeout time.Duration) (*rest.Config, error)
	api        *kubeapi.REST
}

func (k *kubeconfigCluster) rest() (*kubeapi.REST, error) {
	if k.api != nil {
		return k.api, nil
	}
	cfg, err := k.restConfig(15 * time.Second)
	if err != nil {
		return nil, err
	}
	if k.api, err = kubeapi.NewREST(cfg); err != nil {
		return nil, err
	}
	return k.api, nil
}

func (k *kubeconfigCluster) ServerVersion(ctx context.Context) (authnconfig.ServerVersion, error) {
	api, err := k.rest()
	if err != nil {
		return authnconfig.ServerVersion{}, err
	}
	v, err := api.Version(ctx)
	if err != nil {
		return authnconfig.ServerVersion{}, err
	}
	return authnconfig.ParseServerVersion(v.Major, v.Minor)
}

func (k *kubeconfigCluster) ServiceAccountIssuer(ctx context.Context) (string, error) {
	api, err := k.rest()
	if err != nil {
		return "", err
	}
	return api.ServiceAccountIssuer(ctx)
}
