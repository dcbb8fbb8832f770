package status

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// usedCluster is cluster-a registered and written to kubeconfig by `use`,
// with a file token store in cacheDir.
func usedCluster(t *testing.T) (f *cmdtest.AddFixture, kubeconfig, cacheDir string) {
	t.Helper()
	f, kubeconfig, _ = cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, use.NewCmdUse, "cluster-a", "--token-cache", "file"); err != nil {
		t.Fatalf("use cluster-a: %v\n%s", err, errOut)
	}
	cacheDir = filepath.Join(t.TempDir(), "tokens")
	f.Env["SECUREKAPI_CACHE_DIR"] = cacheDir
	f.Env["SECUREKAPI_TOKEN_CACHE"] = "file"
	return f, kubeconfig, cacheDir
}

// TestStatusPutsProblemsOnTheirOwnLine: a corrupt entry's long problem
// does not go into the USER column (stretching the table): the row says
// there is a problem, and the problem follows the table, cut to a sane
// length, with the command that fixes it. -o json keeps it whole.
func TestStatusPutsProblemsOnTheirOwnLine(t *testing.T) {
	f, kubeconfig, cacheDir := usedCluster(t)
	// A corrupt entry under a long cache path: the problem names the file.
	cacheDir = filepath.Join(cacheDir, strings.Repeat("deep-directory/", 12))
	f.Env["SECUREKAPI_CACHE_DIR"] = cacheDir
	key := cmdtest.AccessOf(t, kubeconfig, "cluster-a").Key()
	tokens := filepath.Join(cacheDir, "tokens") // where openStore keeps the files
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tokens, key.ID()+".json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdStatus)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	table, rest, _ := strings.Cut(out, "\n\n")
	lines := strings.Split(table, "\n")
	header := lines[0]
	var row string
	for _, l := range lines {
		if strings.HasPrefix(l, "cluster-a ") {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("no cluster-a row:\n%s", out)
	}
	// The USER column is as wide as its widest cell: a short marker.
	userWidth := strings.Index(header, "GROUPS") - strings.Index(header, "USER")
	if userWidth > len("(problem, see below)")+2 || strings.Contains(row, "corrupt") {
		t.Errorf("the problem went into the table (USER column %d wide):\n%s", userWidth, out)
	}
	if !strings.Contains(row, "(problem, see below)") {
		t.Errorf("the row does not point at the problem:\n%s", row)
	}
	problem, next, _ := strings.Cut(rest, "\n")
	if !strings.HasPrefix(problem, "cluster-a: ") || !strings.Contains(problem, "not a readable token set") && !strings.Contains(problem, "…") {
		t.Errorf("problem line:\n%s", out)
	}
	if n := len([]rune(problem)); n > len("cluster-a: ")+maxProblemRunes+len("… (-o json shows it all)") {
		t.Errorf("problem line is %d characters:\n%s", n, problem)
	}
	if !strings.Contains(next, "kubectl securekapi login cluster-a") {
		t.Errorf("no next step after the problem:\n%s", out)
	}

	js, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdStatus, "-o", "json")
	if err != nil || !strings.Contains(js, tokenstore.ErrCorrupt.Error()) {
		t.Errorf("status -o json lacks the whole problem: %v\n%s", err, js)
	}
}

// TestStatusEscapesClaims: the email and groups shown come from the ID
// token, which the issuer (or whoever registered there) wrote; an OSC or CSI
// sequence in them reaches the terminal only as visible escapes.
func TestStatusEscapesClaims(t *testing.T) {
	f, kubeconfig, cacheDir := usedCluster(t)
	key := cmdtest.AccessOf(t, kubeconfig, "cluster-a").Key()
	store, err := tokenstore.NewFileStore(filepath.Join(cacheDir, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(key, &tokenstore.TokenSet{IDToken: "x", Subject: "alice\x1b[8m", Email: "alice@acc.test\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J",
		Groups: []string{"dev\u202enimda", "ops\r\x1b[1Aroot"}, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdStatus)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	for _, c := range []string{"\x1b", "\x07", "\r", "\u202e"} {
		if strings.Contains(out+errOut, c) {
			t.Errorf("status printed %q raw:\n%q", c, out+errOut)
		}
	}
	for _, want := range []string{`alice@acc.test\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J`, `dev\u202enimda`, `ops\r\x1b[1Aroot`} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not show %s:\n%s", want, out)
		}
	}
}

// TestStatusSaysWhatProtectsTheFiles: the file store's row names what
// keeps its tokens private on this OS. On Windows a mode means nothing;
// the files carry an ACL for the user and SYSTEM alone.
func TestStatusSaysWhatProtectsTheFiles(t *testing.T) {
	f, _, _ := usedCluster(t)
	out, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdStatus)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	want, wrong := "(files, mode 0600)", "ACL"
	if runtime.GOOS == "windows" {
		want, wrong = "(files, ACL: you and SYSTEM only)", "0600"
	}
	if !strings.Contains(out, want) || strings.Contains(out, wrong) {
		t.Errorf("status says of the file store:\n%s\nwant %q, and not %q", out, want, wrong)
	}
}
