// Package versioncmd is `kubectl securekapi version`: the build's version and
// commit.
package versioncmd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/version"
)

// VersionOptions prints build info.
type VersionOptions struct {
	genericiooptions.IOStreams
	Output string
}

// NewCmdVersion returns the version command.
func NewCmdVersion(g *cmdutil.Factory) *cobra.Command { return newCmdVersion(g, nil) }

// newCmdVersion wires the flags to VersionOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdVersion(g *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	o := &VersionOptions{IOStreams: g.IOStreams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the securekapi version and build info",
		Example: `  kubectl securekapi version
  kubectl securekapi version -o json`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json (default: plain text)")
	return cmd
}

// Complete has nothing to fill in: the flags are all there is.
func (o *VersionOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate rejects unknown output formats.
func (o *VersionOptions) Validate() error {
	if o.Output != "" && o.Output != "json" {
		return fmt.Errorf("unknown output format %q: use -o json, or leave it out for text", o.Output)
	}
	return nil
}

// Run prints the version to stdout (it is the data this command exists for).
func (o *VersionOptions) Run(context.Context) error {
	info := version.Get()
	if o.Output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := fmt.Fprintf(o.Out, "securekapi %s (commit %s, %s, %s)\n", info.Version, info.Commit, info.GoVersion, info.Platform)
	return err
}
