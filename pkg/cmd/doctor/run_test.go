package doctor

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
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
