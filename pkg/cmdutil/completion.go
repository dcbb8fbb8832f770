package cmdutil

import "github.com/spf13/cobra"

// CompleteClusterName offers the registered clusters as the first argument.
func CompleteClusterName(g *Factory) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return RegisteredNames(g), cobra.ShellCompDirectiveNoFileComp
	}
}

// RegisteredNames lists the registered cluster names, or none when the
// registry cannot be read (completion must never fail loudly).
func RegisteredNames(g *Factory) []string {
	registry, err := g.Registry()
	if err != nil {
		return nil
	}
	reg, err := registry.Load()
	if err != nil {
		return nil
	}
	return reg.Names()
}
