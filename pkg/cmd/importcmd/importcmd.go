// Package importcmd is `kubectl securekapi import`: it registers every cluster
// of an access profile from the platform owner, refusing silent changes to
// clusters already registered.
package importcmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// ImportOptions registers every cluster of an access profile.
type ImportOptions struct {
	genericiooptions.IOStreams
	HTTPClient   *http.Client
	Now          func() time.Time
	Tunnels      func() tunnel.Env
	Approver     func() cmdutil.Approver
	OpenRegistry func() (*profile.Registry, error)

	Source  string
	DryRun  bool
	NoCheck bool
	// Replace lets the profile change clusters already registered under
	// its names; without it such an import is refused, showing the change.
	Replace  bool
	Registry *profile.Registry
	// Approve approves the profile's clusters to receive the login
	// without asking.
	Approve bool
}

// NewCmdImport returns the import command.
func NewCmdImport(g *cmdutil.Factory) *cobra.Command { return newCmdImport(g, nil) }

// newCmdImport wires the flags to ImportOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdImport(g *cmdutil.Factory, runF func(*ImportOptions) error) *cobra.Command {
	o := &ImportOptions{IOStreams: g.IOStreams, HTTPClient: g.HTTPClient, Now: g.Now, Tunnels: g.Tunnels, Approver: g.Approver, OpenRegistry: g.Registry}
	cmd := &cobra.Command{
		Use:   "import FILE | https://URL",
		Short: "Register every cluster in an access profile from the platform owner",
		Example: `  kubectl securekapi import ./acme-clusters.yaml
  kubectl securekapi import https://platform.example.com/securekapi/profile.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: cmdutil.RunE(o, runF),
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Parse and check the profile without saving it")
	cmd.Flags().BoolVar(&o.NoCheck, "no-check", false, "Skip the live endpoint check (use checks again anyway)")
	cmd.Flags().BoolVar(&o.Replace, "replace", false, "Let the profile change clusters already registered under its names (without it, such an import is refused and the change shown)")
	cmd.Flags().BoolVar(&o.Approve, "approve", false, cmdutil.ApproveFlagHelp)
	return cmd
}

// Complete takes the source and finds the registry.
func (o *ImportOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Source = args[0]
	}
	var err error
	o.Registry, err = o.OpenRegistry()
	return err
}

// Validate refuses a source that cannot be read safely.
func (o *ImportOptions) Validate() error {
	switch {
	case o.Source == "":
		return errors.New("name the profile to import: a file, https://URL, or - for stdin")
	case strings.HasPrefix(o.Source, "http://"):
		return profile.ErrPlainHTTP
	}
	return nil
}

// Run reads, checks and registers.
func (o *ImportOptions) Run(ctx context.Context) error {
	data, err := o.read(ctx)
	if err != nil {
		return err
	}
	p, err := profile.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Source, err)
	}
	if len(p.Clusters) == 0 {
		return fmt.Errorf("%s holds no clusters, so there is nothing to import; ask the platform owner for a profile with at least one cluster (`kubectl securekapi profile NAME ...` writes one)", o.Source)
	}
	current, err := o.Registry.Load()
	if err != nil {
		return err
	}
	if err := o.refuseChanges(current, p); err != nil {
		return err
	}
	o.describe(current, p)
	verified := map[string]*trust.Verified{}
	if !o.NoCheck {
		if verified, err = o.checkEndpoints(ctx, p); err != nil {
			return err
		}
	}
	if o.DryRun {
		fmt.Fprintf(o.ErrOut, "Dry run: would register %v in %s\n", p.Names(), o.Registry.Path)
		return nil
	}
	if err := o.Registry.Update(func(reg *profile.Profile) error {
		// Again under the lock: the registry may have changed meanwhile.
		if err := o.refuseChanges(reg, p); err != nil {
			return err
		}
		for _, c := range p.Clusters {
			reg.Upsert(c)
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Registered %s. Next: kubectl securekapi use %s\n", strings.Join(safetext.EscapeAll(p.Names()), ", "), safetext.Escape(p.Clusters[0].Name))
	return o.Approver().Clusters(p.Clusters, verified, o.Approve, "import")
}

// refuseChanges refuses, unless --replace, a profile that would change a
// cluster already registered: a profile from a compromised or mistaken
// source must not silently move an existing cluster to other pins, another
// endpoint, issuer or tunnel. The error shows every change.
func (o *ImportOptions) refuseChanges(current, incoming *profile.Profile) error {
	if o.Replace {
		return nil
	}
	var b strings.Builder
	var names []string
	for _, c := range incoming.Clusters {
		old, ok := current.Find(c.Name)
		if !ok {
			continue
		}
		if changes := profile.Diff(*old, c); len(changes) > 0 {
			names = append(names, c.Name)
			cmdutil.WriteChanges(&b, c.Name, changes)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return fmt.Errorf("%s would change %s, already registered; nothing was imported:\n%sIf the platform owner did change these settings, run `kubectl securekapi import %s --replace`",
		o.Source, strings.Join(names, ", "), b.String(), o.Source)
}

// describe tells the user what the import does to each cluster, with the
// changes it makes and the extra parameters it sends to the issuer. The
// profile's values are escaped (safetext.Escape) wherever they are shown.
func (o *ImportOptions) describe(current, incoming *profile.Profile) {
	for _, c := range incoming.Clusters {
		if old, ok := current.Find(c.Name); !ok {
			fmt.Fprintf(o.ErrOut, "%s: new cluster at %s, issuer %s, client %s\n", safetext.Escape(c.Name), safetext.Escape(c.Server), safetext.Escape(c.OIDC.IssuerURL), safetext.Escape(c.OIDC.ClientID))
		} else if changes := profile.Diff(*old, c); len(changes) == 0 {
			fmt.Fprintf(o.ErrOut, "%s: already registered with these settings\n", safetext.Escape(c.Name))
		} else {
			fmt.Fprintf(o.ErrOut, "%s: replacing the registered settings (--replace):\n", safetext.Escape(c.Name))
			cmdutil.WriteChanges(o.ErrOut, "", changes)
		}
		if len(c.OIDC.ExtraParams) > 0 {
			fmt.Fprintf(o.ErrOut, "%s: sends extra authorization parameters to its issuer: %s\n", safetext.Escape(c.Name), safetext.Escape(profile.FormatParams(c.OIDC.ExtraParams)))
		}
	}
}

// checkEndpoints verifies every cluster's endpoint live and returns what
// each presented, by cluster name.
func (o *ImportOptions) checkEndpoints(ctx context.Context, p *profile.Profile) (map[string]*trust.Verified, error) {
	verified := map[string]*trust.Verified{}
	var failed error
	for i := range p.Clusters {
		c := &p.Clusters[i]
		v, err := cmdutil.CheckEndpoint(ctx, o.Now, o.Tunnels(), c)
		if err != nil {
			failed = errors.Join(failed, fmt.Errorf("%s: %w", c.Name, err))
			continue
		}
		verified[c.Name] = v
		fmt.Fprintf(o.ErrOut, "%s: endpoint %s verified\n", safetext.Escape(c.Name), safetext.Escape(c.Server))
	}
	if failed != nil {
		return nil, fmt.Errorf("nothing was imported:\n%w", failed)
	}
	return verified, nil
}

// read gets the profile from a file, a URL (Fetch refuses plain http) or
// stdin.
func (o *ImportOptions) read(ctx context.Context) ([]byte, error) {
	switch {
	case strings.HasPrefix(o.Source, "http://"), strings.HasPrefix(o.Source, "https://"):
		return profile.Fetch(ctx, o.HTTPClient, o.Source)
	case o.Source == "-":
		return profile.Read(o.In)
	default:
		return os.ReadFile(o.Source)
	}
}
