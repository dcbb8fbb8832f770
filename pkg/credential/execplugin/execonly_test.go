package execplugin

import (
	"strings"
	"testing"
)

// TestCheckExecOnly: under KUBERNETES_EXEC_INFO only `credential`, as the
// first argument, passes; without it every command does.
func TestCheckExecOnly(t *testing.T) {
	info := func(string) string { return `{"kind":"ExecCredential"}` }
	none := func(string) string { return "" }
	for _, args := range [][]string{
		{"credential", "--server", "https://kapi.example.com"},
		{"credential", "--help"}, // help: the credential command's own text, nothing run
	} {
		if err := CheckExecOnly(args, info); err != nil {
			t.Errorf("%q under exec info: %v", args, err)
		}
	}
	for _, args := range [][]string{
		{"shell", "prod", "--", "sh", "-c", "touch /tmp/pwned"},
		{"run", "prod", "--", "sh"}, {"login", "prod"}, {"logout", "--all"}, {"use", "prod"},
		{"add", "x", "--server", "https://evil.example"}, {"version"}, {"completion", "bash"},
		{"__complete", "shell", ""}, {"help"}, {"-v", "9", "credential"}, {"--kubeconfig=/tmp/k", "credential"},
		{"Credential"}, {"credential\x00"}, {},
	} {
		err := CheckExecOnly(args, info)
		if err == nil {
			t.Errorf("%q under exec info: not refused", args)
			continue
		}
		for _, want := range []string{"refusing", "exec stanza", `may only run "credential"`, "kubectl securekapi use NAME"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q: %q lacks %q", args, err, want)
			}
		}
		if strings.ContainsAny(err.Error(), "\x00\n") {
			t.Errorf("%q: the refusal quotes a control character raw: %q", args, err)
		}
		if err := CheckExecOnly(args, none); err != nil {
			t.Errorf("%q without exec info: %v", args, err)
		}
	}
}
