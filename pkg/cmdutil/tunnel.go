package cmdutil

import (
	"context"
	"fmt"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// Tunnels starts tunnels on the Factory's warn logger (gateway failures
// show at the default verbosity, every tunnel at -v), its secrets and its
// kubeconfig.
func Tunnels(g *Factory) tunnel.Env {
	return tunnel.Env{Log: g.WarnLogger(), Secrets: g.Secrets, Kubeconfig: g.KubeconfigStore()}
}

// OpenSession opens a tunnel.Session for the registered cluster name.
func OpenSession(ctx context.Context, g *Factory, name, listen string, requireTunnel bool) (*tunnel.Session, error) {
	c, err := RegisteredCluster(g, name)
	if err != nil {
		return nil, err
	}
	return Tunnels(g).Open(ctx, c, listen, requireTunnel)
}

// RegisteredCluster loads a cluster from the registry.
func RegisteredCluster(g *Factory, name string) (*profile.Cluster, error) {
	registry, err := g.Registry()
	if err != nil {
		return nil, err
	}
	reg, err := registry.Load()
	if err != nil {
		return nil, err
	}
	c, ok := reg.Find(name)
	if !ok {
		return nil, fmt.Errorf("no cluster %q is registered (registered: %v); add it with `kubectl securekapi add` or `import`", name, reg.Names())
	}
	return c, nil
}
