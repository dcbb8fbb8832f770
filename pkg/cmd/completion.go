package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

// addCompletionCommand adds cobra's completion command now rather than at
// Execute, so that `completion` with no shell or an unknown one fails with a
// non-zero exit instead of printing help and exiting 0: a
// `source <(kubectl-securekapi completion bsh)` must not fail silently.
func addCompletionCommand(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("name a shell: %s completion bash|zsh|fish|powershell", root.DisplayName())
			}
			return fmt.Errorf("unknown shell %q: use bash, zsh, fish or powershell", args[0])
		}
	}
}
