package cmdutil

import (
	"context"
	"fmt"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// OpenSession opens a tunnel.Session for the cluster name registered in
// registry's registry.
func OpenSession(ctx context.Context, registry func() (*profile.Registry, error), tunnels tunnel.Env, name, listen string, requireTunnel bool) (*tunnel.Session, error) {
	c, err := RegisteredCluster(registry, name)
	if err != nil {
		return nil, err
	}
	return tunnels.Open(ctx, c, listen, requireTunnel)
}

// RegisteredCluster loads a cluster from the registry registry opens.
func RegisteredCluster(open func() (*profile.Registry, error), name string) (*profile.Cluster, error) {
	registry, err := open()
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
