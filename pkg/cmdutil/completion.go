package cmdutil

import (
	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/profile"
)

// CompleteClusterName offers the registered clusters as the first argument.
func CompleteClusterName(registry func() (*profile.Registry, error)) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return RegisteredNames(registry), cobra.ShellCompDirectiveNoFileComp
	}
}

// RegisteredNames lists the registered cluster names, or none when the
// registry cannot be read (completion must never fail loudly).
func RegisteredNames(open func() (*profile.Registry, error)) []string {
	registry, err := open()
	if err != nil {
		return nil
	}
	reg, err := registry.Load()
	if err != nil {
		return nil
	}
	return reg.Names()
}
