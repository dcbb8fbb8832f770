// Package kubeconfig owns reading and writing the user's kubeconfig files: it
// finds them the way kubectl does, merges them with client-go's rules, and
// writes a change back to the file each entry came from (as kubectl config
// does), under kubectl's lock and with atomic, mode-preserving writes.
package kubeconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/clientcmd/api"
)

const defaultLockTimeout = 5 * time.Second

// Store is the set of kubeconfig files one command works on.
type Store struct {
	// ExplicitPath is --kubeconfig; when set it is the only file, as in kubectl.
	ExplicitPath string
	// Getenv reads KUBECONFIG and HOME/USERPROFILE; nil means os.Getenv.
	Getenv func(string) string
	// LockTimeout bounds the wait for another writer's lock; 0 means 5s.
	LockTimeout time.Duration
	// Now and Sleep drive the lock wait; nil means time.Now and time.Sleep.
	Now   func() time.Time
	Sleep func(time.Duration)
	// ErrOut is where Modify says it removed a lock left by a dead
	// securekapi; nil means os.Stderr.
	ErrOut io.Writer
}

// Files returns the kubeconfig files in precedence order: the explicit path,
// else the KUBECONFIG list, else ~/.kube/config.
func (s *Store) Files() ([]string, error) {
	if s.ExplicitPath != "" {
		return []string{s.ExplicitPath}, nil
	}
	if files := splitList(s.getenv(clientcmd.RecommendedConfigPathEnvVar)); len(files) > 0 {
		return files, nil
	}
	home := s.getenv("HOME")
	if home == "" {
		home = s.getenv("USERPROFILE") // Windows
	}
	if home == "" {
		return nil, errors.New("cannot find ~/.kube/config because HOME is not set; set HOME or KUBECONFIG, or pass --kubeconfig")
	}
	return []string{filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}, nil
}

// Load returns the merged config (the first file to set a key wins). Missing
// files count as empty. Paths inside are left as written, like
// `kubectl config view --raw`, so a config from Load can be compared with one
// from Modify.
func (s *Store) Load() (*api.Config, error) {
	files, err := s.Files()
	if err != nil {
		return nil, err
	}
	snap, err := readFiles(files)
	if err != nil {
		return nil, err
	}
	return snap.merged()
}

func (s *Store) getenv(key string) string {
	if s.Getenv == nil {
		return os.Getenv(key)
	}
	return s.Getenv(key)
}

// splitList splits a KUBECONFIG value, dropping empty and repeated entries
// (kubectl loads a repeated file once, so its first position counts).
func splitList(value string) []string {
	var files []string
	seen := map[string]bool{}
	for _, f := range filepath.SplitList(value) {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		files = append(files, f)
	}
	return files
}

// fileState is one kubeconfig file as read, plus the edits planned for it.
type fileState struct {
	path   string
	before []byte
	exists bool
	cfg    *api.Config // parsed from before; Modify edits it in place
	// orig is cfg as parsed, kept by Modify before editing so the result
	// can be compared without parsing the file again.
	orig  *api.Config
	dirty bool
}

// snapshot is every file in precedence order, read once.
type snapshot struct {
	files []*fileState
}

func readFiles(paths []string) (*snapshot, error) {
	snap := &snapshot{}
	for _, p := range paths {
		f, err := readFile(p)
		if err != nil {
			return nil, err
		}
		snap.files = append(snap.files, f)
	}
	return snap, nil
}

func readFile(path string) (*fileState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &fileState{path: path, cfg: api.NewConfig()}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w; check that it is a file you can read", path, err)
	}
	cfg, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	return &fileState{path: path, before: data, exists: true, cfg: cfg}, nil
}

func parse(path string, data []byte) (*api.Config, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s is malformed: %w; fix or move it away, securekapi will not overwrite it", path, err)
	}
	fillMaps(cfg)
	return cfg, nil
}

// fillMaps makes every map writable, since a file may omit any section.
func fillMaps(cfg *api.Config) {
	if cfg.Clusters == nil {
		cfg.Clusters = map[string]*api.Cluster{}
	}
	if cfg.AuthInfos == nil {
		cfg.AuthInfos = map[string]*api.AuthInfo{}
	}
	if cfg.Contexts == nil {
		cfg.Contexts = map[string]*api.Context{}
	}
	if cfg.Extensions == nil {
		cfg.Extensions = api.NewConfig().Extensions
	}
}

func (s *snapshot) paths() []string {
	paths := make([]string, len(s.files))
	for i, f := range s.files {
		paths[i] = f.path
	}
	return paths
}

// merged is the config kubectl sees. One file (the usual case: --kubeconfig,
// or no KUBECONFIG list) is the config already parsed, with the loader's
// LocationOfOrigin marks; a second parse of a multi-megabyte kubeconfig is
// a third of what `use` costs. Several files are merged by client-go's own
// loader rather than a copy of its rules, so precedence stays exactly
// kubectl's; the loader re-reads them, and Modify checks before writing that
// none changed since readFiles.
func (s *snapshot) merged() (*api.Config, error) {
	if len(s.files) == 1 {
		return s.files[0].asLoaded(), nil
	}
	return loadWithClientGo(s.paths())
}

// asLoaded is the file's config as clientcmd.LoadFromFile returns it: a
// copy with every cluster, user and context marked as coming from the file.
// TestMergedSingleFileMatchesClientGo holds it to that.
func (f *fileState) asLoaded() *api.Config {
	cfg := f.cfg.DeepCopy()
	fillMaps(cfg)
	if f.exists {
		setOrigin(cfg, f.path)
	}
	return cfg
}

// setOrigin sets LocationOfOrigin on every cluster, user and context.
func setOrigin(cfg *api.Config, origin string) {
	for _, c := range cfg.Clusters {
		c.LocationOfOrigin = origin
	}
	for _, u := range cfg.AuthInfos {
		u.LocationOfOrigin = origin
	}
	for _, c := range cfg.Contexts {
		c.LocationOfOrigin = origin
	}
}

func loadWithClientGo(paths []string) (*api.Config, error) {
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: paths, DoNotResolvePaths: true}
	cfg, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("merge kubeconfig files %s: %w", strings.Join(paths, string(filepath.ListSeparator)), err)
	}
	fillMaps(cfg)
	return cfg, nil
}
