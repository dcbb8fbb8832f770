package kubeconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

// PreviousContextStore remembers the context `use` switched away from, so
// `use -` can switch back (as `kubectx -` does with $XDG_CACHE_HOME/kubectx).
//
// Put Path in securekapi's own config or cache directory (PreviousContextFor
// does), not next to the kubeconfig: KUBECONFIG may point into a directory
// that other tools manage or that is shared between users.
type PreviousContextStore struct {
	Path string
}

// PreviousContextFor returns the store, under dir, that remembers the
// previous context of one kubeconfig: the files (in order) a Store works
// on. Each kubeconfig has its own record, so `use -` under one KUBECONFIG
// never switches to a context remembered from another.
func PreviousContextFor(dir string, kubeconfigFiles []string) (*PreviousContextStore, error) {
	abs := make([]string, len(kubeconfigFiles))
	for i, f := range kubeconfigFiles {
		a, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig path %s: %w", f, err)
		}
		abs[i] = a
	}
	sum := sha256.Sum256([]byte(strings.Join(abs, string(filepath.ListSeparator))))
	return &PreviousContextStore{Path: filepath.Join(dir, "previous-context.d", hex.EncodeToString(sum[:16]))}, nil
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
	return atomicfile.Write(p.Path, []byte(name+"\n"), 0o600)
}
