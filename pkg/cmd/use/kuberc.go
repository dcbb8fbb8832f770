package use

import (
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/kuberc"
)

// ensureKubercAllows makes sure kubectl will run the stanza just written
// under the user's kuberc (kubectl >= 1.35's credential-plugin policy).
// It never edits silently:
//   - a policy that refuses the plugin: on a terminal it asks (y/N) to allow
//     it; off one, --kuberc-allow allows it, else one line says kubectl will
//     refuse and what fixes it;
//   - no policy: it turns an Allowlist on only with --kuberc-allow, keeping
//     the other credential plugins the kubeconfig runs, and otherwise says
//     so in one line on a terminal.
//
// A kuberc problem never fails `use`: kubeconfig is written by then.
func (o *UseOptions) ensureKubercAllows() {
	f, err := kuberc.Read(kuberc.Locate(o.Getenv))
	if err != nil {
		fmt.Fprintf(o.ErrOut, "warning: %v; kubectl may refuse to run %s: run `kubectl securekapi doctor`\n", err, o.ExecCommand)
		return
	}
	v := f.Allows(o.ExecCommand, exec.LookPath)
	if v.Allowed && (v.Policy == kuberc.PolicyAllowlist || f.Off) {
		return
	}
	if v.Allowed {
		if !o.KubercAllow {
			if o.StderrIsTTY {
				fmt.Fprintf(o.ErrOut, "Hint: kubectl runs any credential plugin a kubeconfig names; `kubectl securekapi use %s --%s` turns on a kuberc allowlist (%s) that keeps the plugins you use.\n",
					o.Name, cmdutil.KubercAllowFlag, f.Path)
			}
			return
		}
		o.changeKuberc(f, o.otherPlugins(), false)
		return
	}
	switch {
	case o.KubercAllow:
		o.changeKuberc(f, nil, false)
	case o.Approver().IO.CanPrompt():
		o.changeKuberc(f, nil, true)
	default:
		fmt.Fprintf(o.ErrOut, "kubectl will refuse to run %s: %s. Rerun with --%s to allow it there, or add `- command: %s` to its credentialPluginAllowlist.\n",
			o.ExecCommand, v.Reason, cmdutil.KubercAllowFlag, o.ExecCommand)
	}
}

// changeKuberc shows the change, asks when ask is set, and writes it.
func (o *UseOptions) changeKuberc(f *kuberc.File, keep []string, ask bool) {
	c, err := f.Allow(o.ExecCommand, keep)
	if err != nil {
		fmt.Fprintf(o.ErrOut, "kubectl may refuse to run %s, and kuberc was not changed: %v\n", o.ExecCommand, err)
		return
	}
	kuberc.Describe(o.ErrOut, f, c)
	if ask {
		fmt.Fprint(o.ErrOut, "Change it? [y/N] ")
		if a := strings.ToLower(strings.TrimSpace(readLine(o.In))); a != "y" && a != "yes" {
			fmt.Fprintf(o.ErrOut, "Not changed. kubectl will refuse to run %s until it is allowed: rerun with --%s, or edit %s.\n", o.ExecCommand, cmdutil.KubercAllowFlag, f.Path)
			return
		}
	}
	if err := f.Write(c); err != nil {
		fmt.Fprintf(o.ErrOut, "warning: %v; kubectl may refuse to run %s\n", err, o.ExecCommand)
		return
	}
	fmt.Fprintf(o.ErrOut, "Updated %s: kubectl may run %s.\n", f.Path, o.ExecCommand)
}

// otherPlugins are the exec commands of every user in the kubeconfig, the
// credential plugins an allowlist turned on must keep allowing.
func (o *UseOptions) otherPlugins() []string {
	cfg, err := o.KubeconfigStore().Load()
	if err != nil {
		return nil
	}
	var cmds []string
	for _, u := range cfg.AuthInfos {
		if u.Exec == nil || u.Exec.Command == "" || slices.Contains(cmds, u.Exec.Command) {
			continue
		}
		if why := kuberc.NotKeepable(u.Exec.Command); why != "" {
			fmt.Fprintf(o.ErrOut, "Not kept in the allowlist: %q (%s).\n", u.Exec.Command, why)
			continue
		}
		cmds = append(cmds, u.Exec.Command)
	}
	slices.Sort(cmds)
	return cmds
}

// readLine reads one line a byte at a time, so nothing after it is taken
// from a later prompt.
func readLine(r io.Reader) string {
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		if err != nil {
			break
		}
	}
	return string(line)
}
