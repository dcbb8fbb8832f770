package cmd

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// runRoot runs the whole command tree as Execute does, with buffers.
func runRoot(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewCmdRoot(cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}))
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// TestCompletionAndHelpGoToStdout: `source <(kubectl-securekapi completion
// bash)` must get the script, and `--help | less` the help.
func TestCompletionAndHelpGoToStdout(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "complete -o default -F __start_kubectl-securekapi kubectl-securekapi",
		"zsh":  "#compdef kubectl-securekapi", "fish": "complete -c kubectl-securekapi",
		"powershell": "Register-ArgumentCompleter",
	} {
		out, errOut, err := runRoot(t, "completion", shell)
		if err != nil || !strings.Contains(out, want) || errOut != "" {
			t.Errorf("completion %s: err %v, stderr %q, stdout lacks %q (%d bytes)", shell, err, errOut, want, len(out))
		}
	}
	for _, args := range [][]string{{"--help"}, {"use", "--help"}, {"help", "login"}} {
		out, errOut, err := runRoot(t, args...)
		if err != nil || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("%v: err %v, stdout %q, stderr %q", args, err, out, errOut)
		}
	}
	// Shell completion itself (what kubectl_complete-securekapi calls).
	if out, _, err := runRoot(t, "__complete", "lo"); err != nil || !strings.Contains(out, "login") || !strings.Contains(out, "logout") {
		t.Errorf("__complete: err %v, stdout %q", err, out)
	}
}

// TestCompletionWithoutAShellFails: a typo must not install nothing with
// exit 0.
func TestCompletionWithoutAShellFails(t *testing.T) {
	for args, want := range map[string]string{"": "name a shell", "bsh": `unknown shell "bsh"`} {
		out, _, err := runRoot(t, append([]string{"completion"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) || out != "" {
			t.Errorf("completion %s: err %v, stdout %q; want an error with %q and no output", args, err, out, want)
		}
	}
}

// TestHelpShowsThePluginName: run by kubectl, help says `kubectl
// securekapi`, the way the user types it.
func TestHelpShowsThePluginName(t *testing.T) {
	t.Setenv("KUBECTL_PLUGINS_CALLER", "/usr/bin/kubectl")
	out, _, err := runRoot(t, "use", "--help")
	if err != nil || !strings.Contains(out, "kubectl securekapi use [NAME | -]") || strings.Contains(out, "kubectl-securekapi use") {
		t.Errorf("use --help as a plugin: err %v\n%s", err, out)
	}
	// The completion script still registers the binary's name.
	out, _, _ = runRoot(t, "completion", "bash")
	if !strings.Contains(out, "__start_kubectl-securekapi kubectl-securekapi") {
		t.Errorf("completion bash as a plugin registers the wrong name")
	}
}

// TestFlagHelpHasNoFakePlaceholders: pflag takes the first `backticked`
// word of a flag's help as its value's name, so `--no-check use` showed up
// in import's help. No flag of any command may have backticks in its help.
func TestFlagHelpHasNoFakePlaceholders(t *testing.T) {
	root := NewCmdRoot(cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if strings.Contains(f.Usage, "`") {
				t.Errorf("%s --%s: help %q has backticks, which pflag shows as a placeholder", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// TestHelpShowsTheNameInvoked: the full CLI run as securekapi calls itself
// securekapi in help and completion; handed over by kubectl-securekapi it
// keeps that name.
func TestHelpShowsTheNameInvoked(t *testing.T) {
	for _, program := range []string{"securekapi", "kubectl-securekapi"} {
		var out bytes.Buffer
		f := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}})
		f.Program = program
		root := NewCmdRoot(f)
		root.SetArgs([]string{"use", "--help"})
		if err := root.Execute(); err != nil || !strings.Contains(out.String(), "\n  "+program+" use [NAME | -]") {
			t.Errorf("%s use --help: err %v\n%s", program, err, out.String())
		}
		out.Reset()
		root = NewCmdRoot(f)
		root.SetArgs([]string{"completion", "bash"})
		if err := root.Execute(); err != nil || !strings.Contains(out.String(), "__start_"+program+" "+program) {
			t.Errorf("%s completion bash does not register %s", program, program)
		}
	}
}

// TestExecStanzaRunsOnlyCredential: the full CLI, reached by the small
// program's hand-over or named in an exec stanza itself, refuses every
// command but credential under KUBERNETES_EXEC_INFO before cobra parses
// anything: the stanza's `shell NAME -- sh -c ...` never runs sh.
func TestExecStanzaRunsOnlyCredential(t *testing.T) {
	dir := t.TempDir()
	marker := dir + "/MARKER"
	for _, args := range [][]string{
		{"shell", "prod", "--", "sh", "-c", "touch " + marker},
		{"run", "prod", "--", "sh", "-c", "touch " + marker},
		{"login", "prod"}, {"logout", "--all"}, {"use", "prod"}, {"add", "evil", "--server", "https://evil.example"},
		{"version"}, {"completion", "bash"}, {"__complete", "shell", ""}, {"--kubeconfig", dir + "/k", "shell", "prod"},
	} {
		env := map[string]string{"HOME": dir, "SECUREKAPI_CACHE_DIR": dir + "/cache",
			"KUBERNETES_EXEC_INFO": `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`}
		var out, errOut bytes.Buffer
		g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		g.Getenv = func(k string) string { return env[k] }
		if code := execute(t.Context(), g, args); code == 0 || out.Len() > 0 {
			t.Errorf("%q under KUBERNETES_EXEC_INFO: exit %d, stdout %q", args, code, out.String())
		}
		if !strings.Contains(errOut.String(), "refusing "+strconv.Quote(args[0])) || !strings.Contains(errOut.String(), "kubectl securekapi use NAME") {
			t.Errorf("%q: stderr %q", args, errOut.String())
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a stanza's command ran")
	}
}
