package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/redact"
)

// TestDoctorRunSkipsWhatAFailureBlocks: with no kubeconfig entry, the walk
// says so with the fix, still checks the exec plugin policy (it needs no
// earlier step), skips the rest, and exits 1; -o json names every step.
func TestDoctorRunSkipsWhatAFailureBlocks(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "kubeconfig")
	out, errOut, err := cmdtest.Run(t, missing, NewCmdDoctor, "-o", "json", "--quick")
	var exit *cmdutil.ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("doctor without a kubeconfig entry: err %v, want exit 1\n%s", err, errOut)
	}
	var checks []Check
	if err := json.Unmarshal([]byte(out), &checks); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	steps := (&DoctorOptions{}).steps()
	if len(checks) != len(steps) {
		t.Fatalf("%d checks, want one per step (%d)", len(checks), len(steps))
	}
	for i, c := range checks {
		if c.Name != steps[i].name {
			t.Errorf("check %d is %q, want %q", i, c.Name, steps[i].name)
		}
		want := StatusSkip
		switch c.Name {
		case StepKubeconfig:
			want = StatusFail
		case StepPluginPolicy:
			want = c.Status // whatever this machine's kuberc says, it ran
		}
		if c.Status != want || (c.Name == StepPluginPolicy && c.Status == StatusSkip) {
			t.Errorf("%s: %s (%s), want %s", c.Name, c.Status, c.Detail, want)
		}
	}
	if checks[0].Fix == "" {
		t.Errorf("the failed kubeconfig check names no fix: %+v", checks[0])
	}
}

// TestDoctorValidate refuses flags that would make every check fail.
func TestDoctorValidate(t *testing.T) {
	for _, args := range [][]string{{"--timeout", "0s"}, {"--watch-time", "-1s"}, {"-o", "xml"}} {
		if _, _, err := cmdtest.Run(t, "", NewCmdDoctor, args...); err == nil {
			t.Errorf("doctor %v was accepted", args)
		}
	}
}

// TestDoctorPrintsNoHeldToken: a check quoting what a hop answered (here
// an echo of the request that carried the token) is printed with the
// token redacted, in the table and in -o json.
func TestDoctorPrintsNoHeldToken(t *testing.T) {
	token := "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("dG9rZW4", 12) + ".c2ln"
	for _, output := range []string{"", "json"} {
		f := cmdtest.Factory(nil)
		f.Secrets = &redact.Secrets{}
		f.Secrets.Add(token)
		o := newDoctorOptions(f)
		o.Output = output
		echo := "SelfSubjectReview got HTTP 400 from something that is not the API server (Authorization: Bearer " + token + ")"
		if err := o.print([]Check{{Name: StepWhoami, Status: StatusFail, Detail: echo, Fix: "token " + token}}); err != nil {
			t.Fatal(err)
		}
		out := f.Out.(*bytes.Buffer).String()
		if strings.Contains(out, token[20:60]) || !strings.Contains(out, redact.Redacted) {
			t.Errorf("-o %q printed a held token:\n%s", output, out)
		}
	}
}

// TestDoctorSaysWhetherKubectlRunsThePlugin: the exec plugin policy line
// reads KUBERC as kubectl does: ok when kuberc allows kubectl-securekapi
// (or sets no policy), a failure naming use --kuberc-allow when its
// Allowlist or DenyAll refuses it, even when nothing else can be checked.
func TestDoctorSaysWhetherKubectlRunsThePlugin(t *testing.T) {
	const head = "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n"
	for name, tc := range map[string]struct {
		kuberc string // "" for no file
		want   Status
		detail string
	}{
		"no kuberc":   {"", StatusOK, "kubectl will run kubectl-securekapi: no kuberc"},
		"no policy":   {head, StatusOK, "runs every credential plugin"},
		"allowlisted": {head + "credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist:\n- command: kubectl-securekapi\n", StatusOK, "allowlists kubectl-securekapi"},
		"not listed": {head + "credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist:\n- command: securekapi-lookalike\n", StatusFail,
			"kubectl will refuse to run kubectl-securekapi"},
		"DenyAll": {head + "credentialPluginPolicy: DenyAll\n", StatusFail, "denies every credential plugin"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kuberc")
			if tc.kuberc != "" {
				if err := os.WriteFile(path, []byte(tc.kuberc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"KUBERC": path, "KUBECONFIG": filepath.Join(t.TempDir(), "missing")}
			out, errOut, _ := cmdtest.RunWithEnv(t, env, NewCmdDoctor, "-o", "json", "--quick")
			var checks []Check
			if err := json.Unmarshal([]byte(out), &checks); err != nil {
				t.Fatalf("-o json: %v\n%s%s", err, out, errOut)
			}
			c := checks[1]
			if c.Name != StepPluginPolicy || c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("%+v, want %s with %q", c, tc.want, tc.detail)
			}
			if tc.want == StatusFail && !strings.Contains(c.Fix, "kubectl securekapi use NAME --kuberc-allow") {
				t.Errorf("the fix %q does not name use --kuberc-allow", c.Fix)
			}
		})
	}
}
