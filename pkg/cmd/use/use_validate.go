package use

import (
	"errors"
	"fmt"
	"strings"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// validateExecFlags checks what `use` writes into the exec stanza before
// anything is written: a bad value there breaks every kubectl call later,
// far from the command that caused it.
func (o *UseOptions) validateExecFlags() error {
	if strings.TrimSpace(o.ExecCommand) == "" {
		return fmt.Errorf("--exec-command is empty: kubectl would have no credential plugin to run (default: %s)", cmdutil.ExecCommand)
	}
	if strings.ContainsAny(o.ExecCommand, "\n\r") {
		return errors.New("--exec-command holds a line break: give the path of the plugin only")
	}
	if o.Exec.TokenCache != "" {
		if _, err := tokenstore.ParseSelection(o.Exec.TokenCache); err != nil {
			return fmt.Errorf("--token-cache: %w", err)
		}
	}
	return nil
}
