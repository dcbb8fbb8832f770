package callerconfig

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFilesFollowClientGosLoadingRules(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the cases are Unix paths; on Windows they are not absolute")
	}
	for name, tc := range map[string]struct {
		c    Caller
		want []string
	}{
		"--kubeconfig wins":        {Caller{Args: []string{"get", "ns", "--kubeconfig", "/a"}, Getenv: env(map[string]string{"KUBECONFIG": "/b"})}, []string{"/a"}},
		"--kubeconfig=, every one": {Caller{Args: []string{"--kubeconfig=/a", "--kubeconfig=/c"}, Getenv: env(nil)}, []string{"/a", "/c"}},
		"after --, both":           {Caller{Args: []string{"exec", "p", "--", "--kubeconfig", "/a"}, Getenv: env(map[string]string{"HOME": "/h"})}, []string{"/a", "/h/.kube/config"}},
		"-l -- --kubeconfig=F":     {Caller{Args: []string{"get", "pods", "-l", "--", "--kubeconfig=/f"}, Getenv: env(map[string]string{"KUBECONFIG": "/k"})}, []string{"/f", "/k"}},
		"no HOME: ./.kube/config":  {Caller{Getenv: env(nil), Dir: "/repo"}, []string{"/repo/.kube/config"}},
		"KUBECONFIG list":          {Caller{Getenv: env(map[string]string{"KUBECONFIG": "/a" + string(os.PathListSeparator) + "rel"}), Dir: "/w"}, []string{"/a", "/w/rel"}},
		"home":                     {Caller{Getenv: env(map[string]string{"HOME": "/h"})}, []string{"/h/.kube/config"}},
	} {
		if got := tc.c.Files(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Files() = %v, want %v", name, got, tc.want)
		}
	}
}

func TestMentionsCAFile(t *testing.T) {
	for data, want := range map[string]bool{
		"certificate-authority-data: abc\n":                       false,
		"certificate-authority: /tmp/ca\n":                        true,
		`{"certificate-authority":"/tmp/ca"}`:                     true,
		"'certificate-authority': x\ncertificate-authority-data:": true,
		"server: https://x\n":                                     false,
		`{"certificate\u002dauthority":"/tmp/ca"}`:                true,
		"\"certificate-\\\n  authority\": /tmp/ca\n":              true,
		"Certificate-Authority: /tmp/ca\n":                        true,
	} {
		if got := MentionsCAFile([]byte(data)); got != want {
			t.Errorf("MentionsCAFile(%q) = %v", data, got)
		}
	}
}

func TestScanAndCheck(t *testing.T) {
	dir := t.TempDir()
	inline := filepath.Join(dir, "inline")
	withFile := filepath.Join(dir, "with-file")
	os.WriteFile(inline, []byte("clusters:\n- cluster:\n    certificate-authority-data: abc\n"), 0o600)
	os.WriteFile(withFile, []byte("clusters:\n- cluster:\n    certificate-authority: /tmp/ca\n"), 0o600)
	caller := func(files ...string) *Caller {
		return &Caller{Getenv: env(map[string]string{"KUBECONFIG": strings.Join(files, string(os.PathListSeparator))})}
	}
	if v, err := Scan(caller(inline, filepath.Join(dir, "missing"))); v != Inline || err != nil {
		t.Errorf("inline kubeconfig: %v, %v", v, err)
	}
	if v, err := Scan(caller(inline, withFile)); v != MaybeFile || err != nil {
		t.Errorf("a kubeconfig naming a CA file: %v, %v", v, err)
	}
	for _, args := range [][]string{{"--certificate-authority", "/tmp/ca"}, {"--certificate_authority=/tmp/ca"}, {"-l", "--", "--certificate-authority=/tmp/ca"}} {
		if _, err := Scan(&Caller{Args: args, Getenv: env(nil)}); err == nil {
			t.Errorf("%v was not refused", args)
		}
	}
	named := func(names ...string) CAFileClusters {
		return func([]byte, string) ([]string, error) { return names, nil }
	}
	if err := Check(caller(inline, withFile), "https://s", named("evil")); err == nil || !strings.Contains(err.Error(), "evil") || !strings.Contains(err.Error(), "kubectl securekapi use") {
		t.Errorf("Check with a CA-file cluster for the server: %v", err)
	}
	if err := Check(caller(inline, withFile), "https://s", named()); err != nil {
		t.Errorf("Check with a CA-file cluster for another server: %v", err)
	}
	// The full CLI parses every file, whatever the scan says.
	if err := Check(caller(inline), "https://s", named("hidden")); err == nil {
		t.Error("Check trusted the byte scan of a file it did not parse")
	}
}
