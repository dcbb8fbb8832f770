package callerconfig

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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
		"certİficate-authority: /tmp/ca\n":                        true, // İ lowers to i
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

// The caller's environment reads as its own os.Getenv reads it: the first
// entry for a name is the one kubectl used, whatever a later one says.
func TestParseReadsTheEnvironmentAsTheCallerDoes(t *testing.T) {
	c := parse("kubectl\x00get\x00--kubeconfig=/a\x00\x00", "HOME=/h\x00KUBECONFIG=/first\x00KUBECONFIG=/second\x00KUBECONFIG_X=/x\x00EMPTY=\x00", "/w")
	if want := []string{"get", "--kubeconfig=/a", ""}; !slices.Equal(c.Args, want) {
		t.Errorf("Args = %q, want %q", c.Args, want)
	}
	for k, want := range map[string]string{"KUBECONFIG": "/first", "HOME": "/h", "KUBECONFIG_X": "/x", "EMPTY": "", "KUBE": "", "": ""} {
		if got := c.Getenv(k); got != want {
			t.Errorf("Getenv(%q) = %q, want %q", k, got, want)
		}
	}
	if want := []string{"HOME=/h", "KUBECONFIG=/first", "KUBECONFIG=/second", "KUBECONFIG_X=/x", "EMPTY="}; !slices.Equal(c.Environ, want) {
		t.Errorf("Environ = %q, want %q", c.Environ, want)
	}
	if c.Dir != "/w" || !c.FromParent {
		t.Errorf("Dir, FromParent = %q, %v", c.Dir, c.FromParent)
	}
	if c := parse("", "", "/"); len(c.Args) != 0 || c.Getenv("HOME") != "" {
		t.Errorf("empty /proc files: Args %q, HOME %q", c.Args, c.Getenv("HOME"))
	}
}

// mentionsCAFileByLowering is MentionsCAFile as it was first written: one
// lowered copy of the whole file, searched. The in-place search must give
// the same verdict on every input.
func mentionsCAFileByLowering(data []byte) bool {
	if bytes.ContainsAny(data, "\\!\x00") || !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return true
	}
	const word = "certificate-authority"
	for rest := bytes.ToLower(data); ; {
		i := bytes.Index(rest, []byte(word))
		if i < 0 {
			return false
		}
		rest = rest[i+len(word):]
		if !bytes.HasPrefix(rest, []byte("-data")) {
			return true
		}
	}
}

// Inputs built from the word's pieces in mixed case, hyphens, the letters
// whose Unicode lowering is ASCII (U+0130, U+212A) and whole kubeconfig
// lines, at every length: the search in place and the lowered copy agree.
func TestMentionsCAFileAgreesWithTheLoweredSearch(t *testing.T) {
	pieces := []string{"certificate", "CERTIFICATE", "Certificate", "cert", "ificate", "-", "--", "authority", "AUTHORITY", "Authority",
		"authorit", "ficate", "author", "ty", "-data", "-DATA", "-dat", "data", ":", " ", "\n", "x", "İ", "\u212a", "é", "\xff", "y", "c", "e-a",
		"    certificate-authority-data: LS0t\n", "    certificate-authority: /tmp/ca\n", "- name: a\n"}
	rng := rand.New(rand.NewPCG(23, 23))
	for i := 0; i < 50000; i++ {
		var b []byte
		for n := rng.IntN(12); n > 0; n-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		// The key itself, each letter in either case, each i maybe İ.
		for _, c := range "certificate-authority-data"[:21+rng.IntN(2)*5] {
			switch {
			case c == 'i' && rng.IntN(4) == 0:
				b = append(b, "İ"...)
			case rng.IntN(2) == 0:
				b = append(b, byte(unicode.ToUpper(c)))
			default:
				b = append(b, byte(c))
			}
		}
		for n := rng.IntN(3); n > 0; n-- {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		if got, want := MentionsCAFile(b), mentionsCAFileByLowering(b); got != want {
			t.Fatalf("MentionsCAFile(%q) = %v, the lowered search says %v", b, got, want)
		}
	}
}
