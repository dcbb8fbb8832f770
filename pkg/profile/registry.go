package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
		return r.decode(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("read the cluster registry: %w", err)
	}
	return r.decode(data)
}

// decode reads the registry's content; nil is a missing file, an empty
// registry.
func (r *Registry) decode(data []byte) (*Profile, error) {
	if data == nil {
		return &Profile{APIVersion: APIVersion, Kind: Kind}, nil
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("cluster registry %s: %w; fix or move it away", r.Path, err)
	}
	return p, nil
}

// Update loads, changes and atomically saves the registry under a lock.
func (r *Registry) Update(change func(*Profile) error) error {
	return atomicfile.Update(r.Path, 0o600, func(old []byte) ([]byte, error) {
		p, err := r.decode(old)
		if err != nil {
			return nil, err
		}
		if err := change(p); err != nil {
			return nil, err
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
		return p.Marshal()
	})
}
