package doctor

import (
	"context"
	"fmt"
	"os/exec"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/kuberc"
)

// checkPluginPolicy says whether kubectl will run the context's exec plugin
// under the user's kuberc (kubectl >= 1.35's credential-plugin policy),
// reading it as kubectl does (pkg/kuberc), and how to allow it when not.
func (o *DoctorOptions) checkPluginPolicy(_ context.Context, st *doctorState) Check {
	command := firstNonEmpty(st.execCommand, cmdutil.ExecCommand)
	loc := kuberc.Locate(o.Getenv)
	f, err := kuberc.Read(loc)
	if err != nil {
		if loc.Explicit {
			return fail("fix or remove the file, or unset KUBERC", "kubectl will refuse every command while KUBERC names it: %v", err)
		}
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("kubectl ignores it, with a warning: %v", err), Fix: "fix or remove the file"}
	}
	v := f.Allows(command, exec.LookPath)
	if v.Allowed {
		return ok("kubectl will run %s: %s", command, v.Reason)
	}
	name := firstNonEmpty(o.Name, o.KubeContext(), "NAME")
	return fail(fmt.Sprintf("kubectl securekapi use %s --%s (or add `- command: %s` to credentialPluginAllowlist in %s)", name, cmdutil.KubercAllowFlag, command, f.Path),
		"kubectl will refuse to run %s: %s", command, v.Reason)
}
