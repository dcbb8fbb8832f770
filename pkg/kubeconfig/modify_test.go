package kubeconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/clientcmd/api"
)

func TestModifyKeepsUnrelatedEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, richConfig, 0o600)
	s := &Store{ExplicitPath: path}
	before, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}

	changes, err := s.Modify(addSecurekapi("sk"), ModifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].File != path || changes[0].Created {
		t.Fatalf("changes = %+v, want one change to %s", changes, path)
	}

	after, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if after.CurrentContext != "sk" || after.Contexts["sk"] == nil || after.Clusters["sk"] == nil || after.AuthInfos["securekapi-sk"].Exec == nil {
		t.Fatalf("the new entries are missing: %+v", after)
	}
	// Take the new entries out again: what is left must be exactly the original.
	delete(after.Clusters, "sk")
	delete(after.AuthInfos, "securekapi-sk")
	delete(after.Contexts, "sk")
	after.CurrentContext = before.CurrentContext
	if !reflect.DeepEqual(before, after) {
		t.Errorf("unrelated entries changed:\nbefore %+v\nafter  %+v", before, after)
	}
	assertNoStrays(t, filepath.Dir(path))
}

// scenario is one Modify run over a KUBECONFIG list; contents "" means the
// file does not exist.
type scenario struct {
	name   string
	files  []string
	mutate func(*api.Config) error
	// want maps file index to the names that must be in it afterwards
	// ("cluster/x", "context/x", "user/x", "current/x", "!cluster/x" = absent).
	want map[int][]string
}

const (
	fileA = `apiVersion: v1
kind: Config
clusters:
- name: a-cluster
  cluster: {server: https://a}
users:
- name: a-user
  user: {token: a}
`
	fileB = `apiVersion: v1
kind: Config
current-context: b-ctx
clusters:
- name: b-cluster
  cluster: {server: https://b}
contexts:
- name: b-ctx
  context: {cluster: b-cluster, user: a-user}
`
	fileC = `apiVersion: v1
kind: Config
current-context: c-ctx
clusters:
- name: c-cluster
  cluster: {server: https://c}
contexts:
- name: c-ctx
  context: {cluster: c-cluster, user: a-user}
preferences:
  colors: true
`
)

var scenarios = []scenario{
	{name: "new entries and current-context go to the first existing file",
		files: []string{fileA, fileB, fileC}, mutate: addSecurekapi("new"),
		want: map[int][]string{0: {"cluster/new", "user/securekapi-new", "context/new", "current/new"}, 1: {"current/b-ctx"}}},
	{name: "an entry defined in file 2 is updated in file 2",
		files: []string{fileA, fileB, fileC},
		mutate: func(cfg *api.Config) error {
			cfg.Clusters["b-cluster"].Server = "https://b2"
			cfg.Contexts["b-ctx"].Namespace = "ns"
			return nil
		},
		want: map[int][]string{0: {"!cluster/b-cluster"}, 1: {"cluster/b-cluster"}}},
	{name: "deleting removes from the defining file",
		files: []string{fileA, fileB, fileC},
		mutate: func(cfg *api.Config) error {
			delete(cfg.Clusters, "c-cluster")
			delete(cfg.AuthInfos, "a-user")
			return nil
		},
		want: map[int][]string{0: {"!user/a-user"}, 2: {"!cluster/c-cluster", "context/c-ctx"}}},
	{name: "clearing current-context clears the first file that sets it",
		files:  []string{fileA, fileB, fileC},
		mutate: func(cfg *api.Config) error { cfg.CurrentContext = ""; return nil },
		want:   map[int][]string{1: {"current/"}, 2: {"current/c-ctx"}}},
	{name: "preferences go to the first file whose preferences differ",
		files:  []string{fileA, fileB, fileC},
		mutate: func(cfg *api.Config) error { cfg.Preferences.Colors = false; return nil },
		want:   map[int][]string{}},
	{name: "no file exists: the last one is created",
		files: []string{"", "", ""}, mutate: addSecurekapi("new"),
		want: map[int][]string{2: {"cluster/new", "current/new"}}},
	{name: "first missing: the first existing one is used",
		files: []string{"", fileB, fileC}, mutate: addSecurekapi("new"),
		want: map[int][]string{1: {"cluster/new", "current/new"}}},
	{name: "a single missing file is created",
		files: []string{""}, mutate: addSecurekapi("new"),
		want: map[int][]string{0: {"cluster/new", "current/new"}}},
}

// TestModifyMatchesModifyConfig runs each scenario through Modify and through
// clientcmd.ModifyConfig (as `kubectl config` calls it) on identical trees and
// requires every file to end up with the same content.
func TestModifyMatchesModifyConfig(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ours, theirs := t.TempDir(), t.TempDir()
			ourFiles := layOut(t, ours, sc.files)
			theirFiles := layOut(t, theirs, sc.files)

			if _, err := envStore(ourFiles...).Modify(sc.mutate, ModifyOptions{}); err != nil {
				t.Fatal(err)
			}
			runModifyConfig(t, theirFiles, sc.mutate)

			for i := range ourFiles {
				got, want := canonical(t, ourFiles[i]), canonical(t, theirFiles[i])
				if got != want {
					t.Errorf("file %d differs from ModifyConfig's:\nours:\n%s\nModifyConfig:\n%s", i, got, want)
				}
			}
			for i, names := range sc.want {
				assertHas(t, ourFiles[i], names)
			}
		})
	}
}

func layOut(t *testing.T, dir string, contents []string) []string {
	t.Helper()
	var paths []string
	for i, c := range contents {
		p := filepath.Join(dir, string(rune('a'+i)), "config")
		if c != "" {
			writeFile(t, p, c, 0o600)
		}
		paths = append(paths, p)
	}
	return paths
}

// canonical is a file's content as clientcmd writes it, or "<missing>".
func canonical(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return "<missing>"
	}
	out, err := clientcmd.Write(*loadFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func assertHas(t *testing.T, path string, names []string) {
	t.Helper()
	cfg := loadFile(t, path)
	for _, n := range names {
		kind, name, _ := strings.Cut(strings.TrimPrefix(n, "!"), "/")
		var present bool
		switch kind {
		case "cluster":
			present = cfg.Clusters[name] != nil
		case "user":
			present = cfg.AuthInfos[name] != nil
		case "context":
			present = cfg.Contexts[name] != nil
		case "current":
			present = cfg.CurrentContext == name
		}
		if present == strings.HasPrefix(n, "!") {
			t.Errorf("%s: want %s, file has clusters %v contexts %v users %v current %q",
				path, n, keys(cfg.Clusters), keys(cfg.Contexts), keys(cfg.AuthInfos), cfg.CurrentContext)
		}
	}
}

func keys[T any](m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestModifyThreeFilesTouchesOnlyWhatChanges(t *testing.T) {
	dir := t.TempDir()
	files := layOut(t, dir, []string{fileA, fileB, fileC})
	age(t, files...)
	untouched := stamp(t, files[2])

	_, err := envStore(files...).Modify(func(cfg *api.Config) error {
		cfg.Clusters["b-cluster"].Server = "https://b2" // defined in file 2
		return addSecurekapi("new")(cfg)
	}, ModifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertHas(t, files[0], []string{"cluster/new", "user/securekapi-new", "context/new", "current/new", "!cluster/b-cluster"})
	assertHas(t, files[1], []string{"cluster/b-cluster", "!cluster/new", "current/b-ctx"})
	if got := loadFile(t, files[1]).Clusters["b-cluster"].Server; got != "https://b2" {
		t.Errorf("b-cluster server in file 2 = %q, want the update", got)
	}
	assertUntouched(t, files[2], untouched)
	for _, f := range files {
		assertNoStrays(t, filepath.Dir(f))
	}
}

// A mutate that rebuilds an existing entry (as `use` does) still updates it
// where it is defined; ModifyConfig would add a shadowing copy to file 1.
func TestModifyReplacedEntryStaysInItsFile(t *testing.T) {
	files := layOut(t, t.TempDir(), []string{fileA, fileB})
	_, err := envStore(files...).Modify(func(cfg *api.Config) error {
		SetCluster(cfg, "b-cluster", &api.Cluster{Server: "https://b3"})
		return nil
	}, ModifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertHas(t, files[0], []string{"!cluster/b-cluster"})
	if got := loadFile(t, files[1]).Clusters["b-cluster"].Server; got != "https://b3" {
		t.Errorf("server = %q, want https://b3 in file 2", got)
	}
}

func TestModifyTopLevelExtensions(t *testing.T) {
	files := layOut(t, t.TempDir(), []string{fileA, richConfig})
	_, err := envStore(files...).Modify(func(cfg *api.Config) error {
		cfg.Extensions["tool.example.com"] = &runtime.Unknown{Raw: []byte(`{"last":"2025"}`), ContentType: runtime.ContentTypeJSON}
		cfg.Extensions["securekapi.dev/new"] = &runtime.Unknown{Raw: []byte(`{"a":1}`), ContentType: runtime.ContentTypeJSON}
		return nil
	}, ModifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := loadFile(t, files[0]).Extensions["securekapi.dev/new"]; !ok {
		t.Error("a new extension should go to the default (first existing) file")
	}
	if got := string(loadFile(t, files[1]).Extensions["tool.example.com"].(*runtime.Unknown).Raw); !strings.Contains(got, "2025") {
		t.Errorf("the changed extension should be updated in the file defining it, got %s", got)
	}
}

func TestModifyModes(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("checks Unix modes, which Windows files do not have")
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	writeFile(t, existing, fileA, 0o640)
	if _, err := (&Store{ExplicitPath: existing}).Modify(addSecurekapi("x"), ModifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, existing); got != 0o640 {
		t.Errorf("existing file mode = %o, want 0640 kept", got)
	}

	fresh := filepath.Join(dir, "new-dir", "config")
	if _, err := (&Store{ExplicitPath: fresh}).Modify(addSecurekapi("x"), ModifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, fresh); got != 0o600 {
		t.Errorf("new file mode = %o, want 0600", got)
	}
	if got := mode(t, filepath.Dir(fresh)); got != 0o700 {
		t.Errorf("new directory mode = %o, want 0700", got)
	}
}

func TestModifyMalformedFileWritesNothing(t *testing.T) {
	dir := t.TempDir()
	files := layOut(t, dir, []string{fileA, "placeholder"})
	writeFile(t, files[1], "clusters:\n  - name: [unclosed\n", 0o600)
	age(t, files...)
	stamps := []fileStamp{stamp(t, files[0]), stamp(t, files[1])}

	_, err := envStore(files...).Modify(addSecurekapi("x"), ModifyOptions{})
	if err == nil || !strings.Contains(err.Error(), "kubeconfig "+files[1]+" is malformed") {
		t.Fatalf("err = %v, want it to name %s as malformed", err, files[1])
	}
	for i, f := range files {
		assertUntouched(t, f, stamps[i])
		assertNoStrays(t, filepath.Dir(f))
	}
}

func TestModifyDryRun(t *testing.T) {
	dir := t.TempDir()
	files := layOut(t, dir, []string{fileA, ""})
	age(t, files[0])
	before := stamp(t, files[0])

	changes, err := envStore(files...).Modify(addSecurekapi("x"), ModifyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].File != files[0] || !bytes.Equal(changes[0].Before, before.data) {
		t.Fatalf("changes = %+v, want one for %s with its current bytes as Before", changes, files[0])
	}
	if !strings.Contains(string(changes[0].After), "securekapi-x") {
		t.Errorf("After lacks the new user:\n%s", changes[0].After)
	}
	assertUntouched(t, files[0], before)
	if _, err := os.Stat(files[1]); !os.IsNotExist(err) {
		t.Errorf("dry run created %s", files[1])
	}
	assertNoStrays(t, filepath.Dir(files[0]))
	if _, err := os.Stat(filepath.Dir(files[1])); !os.IsNotExist(err) {
		t.Errorf("dry run created the directory of %s", files[1])
	}
}

func TestModifyNoChangeWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, richConfig, 0o600)
	age(t, path)
	before := stamp(t, path)
	changes, err := (&Store{ExplicitPath: path}).Modify(func(cfg *api.Config) error {
		// Rebuilding an entry with the same content is not a change.
		SetCluster(cfg, "legacy", &api.Cluster{Server: "http://legacy:8080", InsecureSkipTLSVerify: true})
		_, err := SwitchContext(cfg, cfg.CurrentContext)
		return err
	}, ModifyOptions{})
	if err != nil || len(changes) != 0 {
		t.Fatalf("changes = %+v, err = %v; want none", changes, err)
	}
	assertUntouched(t, path, before)
}

func TestModifyMutateErrorWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	before := stamp(t, path)
	_, err := (&Store{ExplicitPath: path}).Modify(func(cfg *api.Config) error {
		_, err := SwitchContext(cfg, "nope")
		return err
	}, ModifyOptions{})
	if err == nil || !strings.Contains(err.Error(), `context "nope" is not in the kubeconfig`) {
		t.Fatalf("err = %v", err)
	}
	assertUntouched(t, path, before)
	assertNoStrays(t, filepath.Dir(path))
}

// A writer that ignores the lock (an editor) is detected, not overwritten.
func TestModifyDetectsWriterIgnoringLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, fileA, 0o600)
	_, err := (&Store{ExplicitPath: path}).Modify(func(cfg *api.Config) error {
		writeFile(t, path, fileB, 0o600)
		return addSecurekapi("x")(cfg)
	}, ModifyOptions{})
	if err == nil || !strings.Contains(err.Error(), "changed while securekapi was updating it") {
		t.Fatalf("err = %v", err)
	}
	if got := string(readBytes(t, path)); got != fileB {
		t.Errorf("the other writer's content was overwritten:\n%s", got)
	}
	assertNoStrays(t, filepath.Dir(path))
}

func TestModifyRejectsNilEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	_, err := (&Store{ExplicitPath: path}).Modify(func(cfg *api.Config) error {
		cfg.Clusters["x"] = nil
		return nil
	}, ModifyOptions{})
	if err == nil || !strings.Contains(err.Error(), `cluster "x" is nil`) {
		t.Fatalf("err = %v", err)
	}
}

func TestModifyFollowsSymlinkedKubeconfig(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("needs symlinks, which Windows gives only to administrators and developer mode (wine fakes them)")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "kubeconfig")
	writeFile(t, real, fileA, 0o600)
	link := filepath.Join(dir, "config")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if _, err := (&Store{ExplicitPath: link}).Modify(addSecurekapi("x"), ModifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symlink", link)
	}
	assertHas(t, real, []string{"cluster/x", "cluster/a-cluster"})
}

// runModifyConfig applies mutate with clientcmd.ModifyConfig, configured as
// kubectl's `config` commands configure it (PathOptions, paths unresolved).
func runModifyConfig(t *testing.T, files []string, mutate func(*api.Config) error) {
	t.Helper()
	const env = "SECUREKAPI_TEST_KUBECONFIG"
	t.Setenv(env, strings.Join(files, string(filepath.ListSeparator)))
	po := &clientcmd.PathOptions{
		GlobalFile:   filepath.Join(t.TempDir(), "unused"),
		EnvVar:       env,
		LoadingRules: &clientcmd.ClientConfigLoadingRules{DoNotResolvePaths: true},
	}
	cfg, err := po.GetStartingConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := mutate(cfg); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.ModifyConfig(po, *cfg, false); err != nil {
		t.Fatal(err)
	}
}
