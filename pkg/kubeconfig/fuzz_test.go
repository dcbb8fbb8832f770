package kubeconfig

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/tools/clientcmd"
)

// FuzzModifyRoundTrip: for any kubeconfig clientcmd accepts, adding a
// securekapi cluster, user and context succeeds and keeps every other entry.
func FuzzModifyRoundTrip(f *testing.F) {
	for _, seed := range []string{richConfig, fileA, fileB, fileC, sharedConfig, "", "apiVersion: v1\nkind: Config\n",
		"{}", `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"x","cluster":{"server":"s"}}]}`,
		"clusters:\n- name: x\n", "contexts:\n- name: \"\"\n  context: {cluster: c}\n",
		"users:\n- name: u\n  user: {exec: {}}\n", "extensions:\n- name: e\n  extension: 5\n",
		"extensions:\n- name: e\n", "preferences: {extensions: [{name: x}]}\n",
		"clusters:\n- name: fuzz-sk\n  cluster: {server: s, extensions: [{name: k, extension: {a: [1]}}]}\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := clientcmd.Load(data); err != nil {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s := &Store{ExplicitPath: path}
		before, err := s.Load()
		if err != nil {
			t.Fatalf("clientcmd.Load accepts the input but Store.Load does not: %v", err)
		}
		if _, err := s.Modify(addSecurekapi("fuzz-sk"), ModifyOptions{}); err != nil {
			t.Fatalf("Modify: %v\ninput:\n%s", err, data)
		}
		after, err := s.Load()
		if err != nil {
			t.Fatalf("reload: %v\nwritten:\n%s", err, readBytes(t, path))
		}
		if after.Clusters["fuzz-sk"] == nil || after.AuthInfos["securekapi-fuzz-sk"] == nil ||
			after.Contexts["fuzz-sk"] == nil || after.CurrentContext != "fuzz-sk" {
			t.Fatalf("the new entries are missing:\n%s", readBytes(t, path))
		}
		assertKept(t, "cluster", before.Clusters, after.Clusters, "fuzz-sk")
		assertKept(t, "user", before.AuthInfos, after.AuthInfos, "securekapi-fuzz-sk")
		assertKept(t, "context", before.Contexts, after.Contexts, "fuzz-sk")
		if !equality.Semantic.DeepEqual(before.Preferences, after.Preferences) ||
			!equality.Semantic.DeepEqual(before.Extensions, after.Extensions) {
			t.Fatalf("preferences or extensions changed:\ninput:\n%s\nwritten:\n%s", data, readBytes(t, path))
		}
	})
}

func assertKept[T any](t *testing.T, kind string, before, after map[string]*T, ours string) {
	t.Helper()
	for name, v := range before {
		if name == ours {
			continue
		}
		if !equality.Semantic.DeepEqual(v, after[name]) {
			t.Fatalf("%s %q changed:\nbefore %+v\nafter  %+v", kind, name, v, after[name])
		}
	}
	if len(after) != len(before)+1 && before[ours] == nil {
		t.Fatalf("%s count went from %d to %d, want one more", kind, len(before), len(after))
	}
}
