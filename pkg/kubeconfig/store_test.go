package kubeconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	sep := string(filepath.ListSeparator)
	home := filepath.Join("/home", "ann")
	tests := []struct {
		name     string
		explicit string
		env      map[string]string
		want     []string
		wantErr  string
	}{
		{name: "explicit path wins over KUBECONFIG", explicit: "/x/cfg",
			env: map[string]string{"KUBECONFIG": "/a", "HOME": home}, want: []string{"/x/cfg"}},
		{name: "KUBECONFIG list, empty and repeated entries dropped",
			env:  map[string]string{"KUBECONFIG": "/a" + sep + sep + "/b" + sep + "/a" + sep + "/c", "HOME": home},
			want: []string{"/a", "/b", "/c"}},
		{name: "home file", env: map[string]string{"HOME": home},
			want: []string{filepath.Join(home, ".kube", "config")}},
		{name: "a KUBECONFIG of only separators falls back to home",
			env: map[string]string{"KUBECONFIG": sep + sep, "HOME": home}, want: []string{filepath.Join(home, ".kube", "config")}},
		{name: "USERPROFILE when HOME is unset", env: map[string]string{"USERPROFILE": `C:\Users\ann`},
			want: []string{filepath.Join(`C:\Users\ann`, ".kube", "config")}},
		{name: "no home says what to set", env: map[string]string{}, wantErr: "set HOME or KUBECONFIG, or pass --kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Store{ExplicitPath: tt.explicit, Getenv: func(k string) string { return tt.env[k] }}
			got, err := s.Files()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Files() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestLoadMergesFirstFileWins(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: {server: https://from-a}
`, 0o600)
	writeFile(t, b, `apiVersion: v1
kind: Config
current-context: b-ctx
clusters:
- name: shared
  cluster: {server: https://from-b}
- name: only-b
  cluster: {server: https://b}
contexts:
- name: b-ctx
  context: {cluster: only-b, user: u}
`, 0o600)
	cfg, err := envStore(filepath.Join(dir, "missing"), a, b).Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clusters["shared"].Server; got != "https://from-a" {
		t.Errorf("shared cluster server = %q, want the first file's", got)
	}
	if cfg.Clusters["only-b"] == nil || cfg.CurrentContext != "b-ctx" {
		t.Errorf("entries and current-context only in the second file are missing: %+v", cfg)
	}
	if cfg.Clusters["only-b"].LocationOfOrigin != b {
		t.Errorf("LocationOfOrigin = %q, want %q", cfg.Clusters["only-b"].LocationOfOrigin, b)
	}
}

func TestLoadMissingFilesAreEmpty(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []*Store{
		{ExplicitPath: filepath.Join(dir, "nope")},
		envStore(filepath.Join(dir, "x"), filepath.Join(dir, "y")),
	} {
		cfg, err := s.Load()
		if err != nil {
			t.Fatalf("Load with missing files: %v", err)
		}
		if len(cfg.Clusters)+len(cfg.Contexts)+len(cfg.AuthInfos) != 0 || cfg.Clusters == nil {
			t.Errorf("want an empty config with writable maps, got %+v", cfg)
		}
	}
}

func TestLoadKeepsRelativePathsAsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, richConfig, 0o600)
	cfg, err := (&Store{ExplicitPath: path}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clusters["dev"].CertificateAuthority; got != "ca/dev.crt" {
		t.Errorf("certificate-authority = %q; Load must not resolve paths, or Modify would write them back absolute", got)
	}
}

func TestLoadMalformedNamesFileAndReason(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	writeFile(t, good, richConfig, 0o600)
	writeFile(t, bad, "apiVersion: v1\nkind: Config\nclusters: [\n", 0o600)
	_, err := envStore(good, bad).Load()
	if err == nil {
		t.Fatal("Load accepted a malformed file")
	}
	for _, want := range []string{"kubeconfig " + bad + " is malformed", "yaml", "fix or move it away"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := (&Store{ExplicitPath: filepath.Join(dir, "config")}).Load()
	if err == nil || !strings.Contains(err.Error(), "read kubeconfig") {
		t.Fatalf("err = %v, want a read error naming the file", err)
	}
}

// The one-file shortcut in merged must give exactly what client-go's loader
// gives, or `use` would plan its edits against a different config than
// kubectl reads.
func TestMergedSingleFileMatchesClientGo(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"rich":    richConfig,
		"large":   largeConfig(50),
		"empty":   "",
		"bare":    "apiVersion: v1\nkind: Config\n",
		"missing": "",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if name != "missing" {
				writeFile(t, path, content, 0o600)
			}
			snap, err := readFiles([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			got, err := snap.merged()
			if err != nil {
				t.Fatal(err)
			}
			want, err := loadWithClientGo([]string{path})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("merged() differs from client-go's loader:\n got %+v\nwant %+v", got, want)
			}
			// The copy is the caller's to edit.
			for _, c := range got.Clusters {
				c.Server = "https://changed.example"
			}
			for _, c := range snap.files[0].cfg.Clusters {
				if c.Server == "https://changed.example" {
					t.Fatal("editing the merged config changed the parsed file")
				}
			}
		})
	}
}
