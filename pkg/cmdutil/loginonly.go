package cmdutil

import "github.com/spf13/cobra"

// LoginOnlyFlags are the AccessFlags that only matter when a login runs.
// Commands that never log in still accept them, so an exec stanza's args
// can be pasted, but keep them out of their help.
var LoginOnlyFlags = []string{"grant", "browser-command", "login-timeout", "expiry-margin", "listen-address"}

func HideLoginOnlyFlags(cmd *cobra.Command) {
	for _, name := range LoginOnlyFlags {
		_ = cmd.Flags().MarkHidden(name)
	}
}
