package kubeconfig

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/clientcmd/api"
)

// envStore is a Store over the KUBECONFIG list files, with no HOME.
func envStore(files ...string) *Store {
	list := strings.Join(files, string(filepath.ListSeparator))
	return &Store{Getenv: func(k string) string {
		if k == "KUBECONFIG" {
			return list
		}
		return ""
	}}
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func readBytes(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// loadFile parses one file on its own (not merged).
func loadFile(t testing.TB, path string) *api.Config {
	t.Helper()
	cfg, err := clientcmd.Load(readBytes(t, path))
	if err != nil {
		t.Fatalf("%s no longer parses: %v", path, err)
	}
	return cfg
}

// addSecurekapi is what `use NAME` does: cluster, exec user, context, switch.
func addSecurekapi(name string) func(*api.Config) error {
	return func(cfg *api.Config) error {
		SetCluster(cfg, name, &api.Cluster{Server: "https://" + name + ".example.com", CertificateAuthorityData: []byte("pinned-ca")})
		SetExecUser(cfg, "securekapi-"+name, &api.ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1", Command: "kubectl-securekapi",
			Args: []string{"credential", "--cluster-name", name}, InteractiveMode: api.IfAvailableExecInteractiveMode,
		})
		SetContext(cfg, name, name, "securekapi-"+name, "default")
		_, err := SwitchContext(cfg, name)
		return err
	}
}

// age backdates a file so a rewrite, even within the same second, shows.
func age(t testing.TB, paths ...string) {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, p := range paths {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

type fileStamp struct {
	data  []byte
	mtime time.Time
}

func stamp(t testing.TB, path string) fileStamp {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileStamp{readBytes(t, path), fi.ModTime()}
}

func assertUntouched(t testing.TB, path string, before fileStamp) {
	t.Helper()
	now := stamp(t, path)
	if !bytes.Equal(now.data, before.data) || !now.mtime.Equal(before.mtime) {
		t.Errorf("%s was rewritten; it should not have been touched", path)
	}
}

// assertNoStrays fails if a lock or temp file is left in dir.
func assertNoStrays(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".lock") || strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("stray file left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}

func mode(t testing.TB, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
