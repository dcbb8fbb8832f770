package kubeconfig

import (
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	before := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	after := "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\n"
	want := `@@ -2,9 +2,10 @@
 b
 c
 d
-e
+E
 f
 g
 h
 i
 j
+k
`
	if got := Diff([]byte(before), []byte(after)); got != want {
		t.Errorf("Diff =\n%s\nwant\n%s", got, want)
	}
}

func TestDiffSeparateHunks(t *testing.T) {
	var b, a []string
	for i := range 20 {
		line := string(rune('a' + i))
		b = append(b, line)
		if i == 1 || i == 18 {
			line = strings.ToUpper(line)
		}
		a = append(a, line)
	}
	got := Diff([]byte(strings.Join(b, "\n")), []byte(strings.Join(a, "\n")))
	if strings.Count(got, "@@ -") != 2 || !strings.Contains(got, "@@ -1,5 +1,5 @@") || !strings.Contains(got, "@@ -16,5 +16,5 @@") {
		t.Errorf("want two hunks with correct positions, got\n%s", got)
	}
}

func TestDiffNewFileAndNoChange(t *testing.T) {
	if got := Diff(nil, []byte("x\ny\n")); got != "@@ -1,0 +1,2 @@\n+x\n+y\n" {
		t.Errorf("new file diff = %q", got)
	}
	if got := Diff([]byte("same\n"), []byte("same\n")); got != "" {
		t.Errorf("no-change diff = %q, want empty", got)
	}
}

func TestDiffRedactsCredentials(t *testing.T) {
	before := "users:\n- name: bob\n  user:\n    token: old-secret\n    client-key-data: S0VZ\n"
	after := "users:\n- name: bob\n  user:\n    token: new-secret\n    client-key-data: S0VZ\n"
	got := Diff([]byte(before), []byte(after))
	for _, secret := range []string{"old-secret", "new-secret", "S0VZ"} {
		if strings.Contains(got, secret) {
			t.Errorf("diff shows %q:\n%s", secret, got)
		}
	}
	if !strings.Contains(got, "-    token: REDACTED\n+    token: REDACTED\n") {
		t.Errorf("a changed secret should still show as a changed line:\n%s", got)
	}
}

func TestDiffHugeInputFallsBack(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		a.WriteString("a" + strings.Repeat("x", i%7) + "\n")
		b.WriteString("b" + strings.Repeat("x", i%5) + "\n")
	}
	got := Diff([]byte(a.String()), []byte(b.String()))
	if strings.Count(got, "\n-") != 3000 || strings.Count(got, "\n+") != 3000 {
		t.Error("the fallback should remove every old line and add every new one")
	}
}
