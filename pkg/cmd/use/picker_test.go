package use

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// TestUseWithoutANameListsUnlessAllThreeAreATerminal: `use` with no name
// offers the picker only when stdin, stdout and stderr are all terminals;
// with any one of them piped it lists the clusters on stdout, as scripts
// expect, and changes nothing.
func TestUseWithoutANameListsUnlessAllThreeAreATerminal(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		stdin, stdout, stderr bool
	}{
		{"stdout piped", true, false, true},
		{"stdin piped", false, true, true},
		{"stderr to a log", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, kubeconfig, before := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
			g := cmdtest.Factory(f.Env)
			g.StdinIsTTY = tc.stdin
			g.StdoutIsTTY = tc.stdout
			g.StderrIsTTY = tc.stderr
			if err := cmdtest.Execute(NewCmdUse(g)); err != nil {
				t.Fatalf("use: %v\n%s", err, g.ErrOut)
			}
			out := g.Out.(*bytes.Buffer).String()
			if !strings.Contains(out, "CURRENT") || !strings.Contains(out, "cluster-a") {
				t.Errorf("use did not list the clusters on stdout:\n%s", out)
			}
			if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
				t.Error("listing changed the kubeconfig")
			}
		})
	}
}

// TestUseWithoutANamePicksAtATerminal: with all three a terminal the
// picker runs on stdin and stderr, and what is chosen there (Enter on the
// only cluster) is switched to; stdout gets no list.
func TestUseWithoutANamePicksAtATerminal(t *testing.T) {
	f, kubeconfig, _ := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	g := cmdtest.Factory(f.Env)
	g.In = strings.NewReader("\r")
	g.StdinIsTTY = true
	g.StdoutIsTTY = true
	g.StderrIsTTY = true
	if err := cmdtest.Execute(NewCmdUse(g)); err != nil {
		t.Fatalf("use at a terminal: %v\n%s", err, g.ErrOut)
	}
	if got := currentContext(t, kubeconfig); got != "cluster-a" {
		t.Errorf("current context = %q after picking cluster-a\n%s", got, g.ErrOut)
	}
	if out := g.Out.(*bytes.Buffer).String(); strings.Contains(out, "CURRENT") {
		t.Errorf("the picker also listed on stdout:\n%s", out)
	}
}

// TestUseOnDevNullDoesNotStartThePicker: `use </dev/null >/dev/null
// 2>/dev/null` (cron, a script) runs on real files that are character
// devices but no terminal: it lists, as README says for piped output,
// and exits 0 instead of failing to put /dev/null into raw mode.
func TestUseOnDevNullDoesNotStartThePicker(t *testing.T) {
	f, kubeconfig, before := cmdtest.Usable(t, add.NewCmdAdd, 0o600)
	open := func(flag int) *os.File {
		file, err := os.OpenFile(os.DevNull, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { file.Close() })
		return file
	}
	g := cmdutil.NewFactory(genericiooptions.IOStreams{In: open(os.O_RDONLY), Out: open(os.O_WRONLY), ErrOut: open(os.O_WRONLY)})
	g.Getenv = func(k string) string { return f.Env[k] }
	done := make(chan error, 1)
	go func() { done <- cmdtest.Execute(NewCmdUse(g)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("use on %s: %v", os.DevNull, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("use on /dev/null is still running: it waits for a person")
	}
	if now, _ := os.ReadFile(kubeconfig); !bytes.Equal(now, before) {
		t.Error("use on /dev/null changed the kubeconfig")
	}

	// The same with stdout a file: the list is what it holds.
	listing := filepath.Join(t.TempDir(), "clusters.txt")
	out, err := os.Create(listing)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	g.Out = out
	if err := cmdtest.Execute(NewCmdUse(g)); err != nil {
		t.Fatalf("use >file: %v", err)
	}
	if data, _ := os.ReadFile(listing); !bytes.Contains(data, []byte("cluster-a")) {
		t.Errorf("use >file wrote no list:\n%s", data)
	}
}
