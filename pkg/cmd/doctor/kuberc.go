package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"sigs.k8s.io/yaml"
)

// checkPluginPolicy reads kubectl's kuberc (kubectl >= 1.33) for an exec
// plugin policy that would block securekapi.
func (o *DoctorOptions) checkPluginPolicy(context.Context, *doctorState) Check {
	path := o.Getenv("KUBERC")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".kube", "kuberc")
	}
	if path == "off" {
		return ok("kuberc is off: kubectl allows every exec plugin")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ok("no kuberc: kubectl allows every exec plugin")
	}
	if err != nil {
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	var rc struct {
		Policy    string `json:"credentialPluginPolicy"`
		Allowlist []struct {
			Name    string `json:"name"`
			Command string `json:"command"`
		} `json:"credentialPluginAllowlist"`
	}
	if err := yaml.Unmarshal(data, &rc); err != nil {
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("cannot parse %s: %v", path, err)}
	}
	switch rc.Policy {
	case "", "AllowAll":
		return ok("%s allows every exec plugin", path)
	case "DenyAll":
		return fail("set credentialPluginPolicy: Allowlist with "+cmdutil.ExecCommand+" in "+path, "%s denies every exec plugin", path)
	}
	for _, e := range rc.Allowlist {
		if strings.Contains(e.Name+e.Command, "securekapi") {
			return ok("%s allowlists %s", path, firstNonEmpty(e.Name, e.Command))
		}
	}
	return fail("add {name: "+cmdutil.ExecCommand+"} to credentialPluginAllowlist in "+path, "%s policy %s does not list securekapi", path, rc.Policy)
}
