package tokenstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/userfile"
)

// FileStore keeps one JSON file per key, "<id>.json" (mode 0600), in a
// directory only the user can enter (mode 0700); on Windows both carry an
// ACL for the user and SYSTEM alone. For machines without a usable keyring.
type FileStore struct {
	dir string
}

// NewFileStore prepares dir: it creates it with mode 0700, or tightens an
// existing one that other users could read.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("no directory given for the token file store; set SECUREKAPI_CACHE_DIR")
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	return &FileStore{dir: dir}, nil
}

// privateDir makes sure dir exists and only its owner can enter it (0700,
// or an owner-only ACL on Windows), tightening one that others could read.
func privateDir(dir string) error {
	if err := userfile.MakePrivateDir(dir); err != nil {
		return fmt.Errorf("the token directory: %w", err)
	}
	return nil
}

func (s *FileStore) Kind() string { return "file" }

// Location names the directory and what keeps it private: mode 0600 on
// Unix, an owner-only ACL on Windows.
func (s *FileStore) Location() string { return s.dir + " (files, " + userfile.Protection + ")" }

// Dir is the directory the files live in.
func (s *FileStore) Dir() string { return s.dir }

func (s *FileStore) path(k Key) string { return filepath.Join(s.dir, k.ID()+".json") }

func (s *FileStore) Get(k Key) (*TokenSet, error) {
	ts, err := s.read(s.path(k))
	if err != nil {
		return nil, err
	}
	if err := checkKey(ts, k, "token file "+s.path(k)); err != nil {
		return nil, err
	}
	return ts, nil
}

func (s *FileStore) read(path string) (*TokenSet, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("token file %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read the token file: %w", err)
	}
	return decodeTokenSet(data, "token file "+path)
}

func (s *FileStore) Put(k Key, t *TokenSet) error {
	data, err := json.Marshal(stamped(k, t))
	if err != nil {
		return fmt.Errorf("encode tokens: %w", err)
	}
	if err := privateDir(s.dir); err != nil {
		return err
	}
	// 0600 exactly, even over a file someone loosened: it holds tokens.
	return atomicfile.WriteMode(s.path(k), data, 0o600)
}

func (s *FileStore) Delete(k Key) error {
	err := os.Remove(s.path(k))
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("remove the token file: %w", err)
}

func (s *FileStore) List() ([]*TokenSet, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the token directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && isEntryName(e.Name()) {
			names = append(names, filepath.Join(s.dir, e.Name()))
		}
	}
	return readAll(names, s.read)
}

// isEntryName matches "<64 hex>.json", skipping temp and lock files.
func isEntryName(name string) bool {
	id, ok := strings.CutSuffix(name, ".json")
	return ok && len(id) == 64 && strings.Trim(id, "0123456789abcdef") == ""
}
