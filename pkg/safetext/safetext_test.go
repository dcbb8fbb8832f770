package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"kubectl":                           "kubectl",
		"Zoë 東京 ✓":                          "Zoë 東京 ✓",
		"a\nissuer https://x, client k":     `a\nissuer https://x, client k`,
		"\x1b[2J\x1b]0;pwned\x07":           `\x1b[2J\x1b]0;pwned\x07`,
		"tab\there\r":                       `tab\there\r`,
		"del\x7f":                           `del\x7f`,
		"c1\u009b31m":                       `c1\u009b31m`,
		"bidi\u202egnp.exe":                 `bidi\u202egnp.exe`,
		"iso\u2066x\u2069 zw\u200dj \ufeff": `iso\u2066x\u2069 zw\u200dj \ufeff`,
		"sep\u2028x":                        `sep\u2028x`,
		"bad\xff\xfeutf8":                   `bad\xff\xfeutf8`,
		`back\slash`:                        `back\slash`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsFunc(Escape(in), Unsafe) {
			t.Errorf("Escape(%q) still holds a control character", in)
		}
	}
	if got := EscapeLines("one\x1b[31m\ntwo\u202e"); got != "one\\x1b[31m\ntwo\\u202e" {
		t.Errorf("EscapeLines = %q", got)
	}
}

func TestCheck(t *testing.T) {
	for _, ok := range []string{"kubectl", "api://0a1b-2c3d", "Zoë", ""} {
		if err := Check(ok, MaxClientID); err != nil {
			t.Errorf("Check(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"kubectl\nissuer https://login.corp.example", "k\x1b[2K", "k\x7f", "k\u0085", "k\u202e", "k\xff", strings.Repeat("k", MaxClientID+1)} {
		err := Check(bad, MaxClientID)
		if err == nil {
			t.Errorf("Check(%q) accepted it", bad)
			continue
		}
		if strings.ContainsFunc(err.Error(), Unsafe) {
			t.Errorf("Check(%q)'s message carries the control character: %q", bad, err)
		}
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"kubectl", "a\x1b[2Jb", "\u202e", "\xff", "Zoë\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if strings.ContainsFunc(e, Unsafe) || !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) = %q holds a control character", s, e)
		}
		if Check(s, len(s)) == nil && e != s {
			t.Fatalf("Escape changed an acceptable identifier %q to %q", s, e)
		}
	})
}
