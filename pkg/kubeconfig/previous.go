package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// PreviousContextStore remembers the context `use` switched away from, so
// `use -` can switch back (as `kubectx -` does with $XDG_CACHE_HOME/kubectx).
//
// Put Path in securekapi's own config or cache directory (pkg/cmd uses
// "previous-context" next to the cluster registry), not next to the
// kubeconfig: KUBECONFIG may point into a directory that other tools manage
// or that is shared between users.
type PreviousContextStore struct {
	Path string
}

// Get returns the remembered context name, or "" if none was recorded.
func (p *PreviousContextStore) Get() (string, error) {
	data, err := os.ReadFile(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read previous context from %s: %w", p.Path, err)
	}
	// Only the line end is trimmed: a context name may start or end with a space.
	return strings.TrimRight(string(data), "\r\n"), nil
}

// Set records name, replacing what was there.
func (p *PreviousContextStore) Set(name string) error {
	if strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("context name %q has a line break, which the previous-context file %s cannot hold", name, p.Path)
	}
	return WriteFileAtomic(p.Path, []byte(name+"\n"), 0o600)
}
