package profile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

// Registry is the user's own profile of registered clusters, kept at
// $SECUREKAPI_CONFIG, else <user config dir>/securekapi/clusters.yaml.
type Registry struct {
	Path string
}

// DefaultRegistryPath returns where the registry lives.
func DefaultRegistryPath(getenv func(string) string) (string, error) {
	if p := getenv("SECUREKAPI_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find a config directory: %w (set SECUREKAPI_CONFIG)", err)
	}
	return filepath.Join(dir, "securekapi", "clusters.yaml"), nil
}

// Load reads the registry; a missing file is an empty registry.
func (r *Registry) Load() (*Profile, error) {
	data, err := os.ReadFile(r.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Profile{APIVersion: APIVersion, Kind: Kind}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the cluster registry: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("cluster registry %s: %w; fix or move it away", r.Path, err)
	}
	return p, nil
}

// Update loads, changes and atomically saves the registry under a lock.
func (r *Registry) Update(change func(*Profile) error) error {
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o700); err != nil {
		return err
	}
	lock := flock.New(r.Path + ".lock")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	locked, err := lock.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil || !locked {
		return fmt.Errorf("lock %s: another securekapi is updating it (%v)", r.Path, err)
	}
	defer lock.Unlock()
	p, err := r.Load()
	if err != nil {
		return err
	}
	if err := change(p); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteMode(r.Path, data, 0o600)
}
