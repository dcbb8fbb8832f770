package cmdutil

import (
	"context"

	"github.com/spf13/cobra"
)

// Options is a command's Options: three steps, in order. Complete fills in
// what the arguments, flags and environment give; Validate refuses a bad
// combination with a clear message before anything happens; Run does the
// work.
type Options interface {
	Complete(c *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// RunE is the cobra wiring every command shares: Complete, Validate, then
// Run with the command's context (which SIGINT or SIGTERM ends). A test's
// runF, when set, runs instead of Run, to see the Options the flags made.
func RunE[O Options](o O, runF func(O) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := o.Complete(c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		if runF != nil {
			return runF(o)
		}
		return o.Run(c.Context())
	}
}
