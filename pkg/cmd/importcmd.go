package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

// ImportOptions registers every cluster of an access profile.
type ImportOptions struct {
	*GlobalOptions
	Source   string
	DryRun   bool
	NoCheck  bool
	Registry string
	// Approve approves the profile's clusters to receive the login
	// without asking.
	Approve bool
	// HTTPClient fetches https profiles; its TLS verification is never off.
	HTTPClient *http.Client
}

// maxProfileBytes bounds a fetched profile.
const maxProfileBytes = 4 << 20

// NewCmdImport returns the import command.
func NewCmdImport(g *GlobalOptions) *cobra.Command {
	o := &ImportOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "import FILE | https://URL",
		Short: "Register every cluster in an access profile from the platform owner",
		Example: `  kubectl securekapi import ./acme-clusters.yaml
  kubectl securekapi import https://platform.example.com/securekapi/profile.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Source = args[0]
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Parse and check the profile without saving it")
	cmd.Flags().BoolVar(&o.NoCheck, "no-check", false, "Skip the live endpoint check (`use` checks again anyway)")
	cmd.Flags().BoolVar(&o.Approve, "approve", false, approveFlagHelp)
	return cmd
}

// Complete finds the registry and the HTTP client.
func (o *ImportOptions) Complete() error {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	var err error
	o.Registry, err = profile.DefaultRegistryPath(o.Getenv)
	return err
}

// Run reads, checks and registers.
func (o *ImportOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	data, err := o.read(ctx)
	if err != nil {
		return err
	}
	p, err := profile.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Source, err)
	}
	verified := map[string]*trust.Verified{}
	if !o.NoCheck {
		var failed error
		for i := range p.Clusters {
			c := &p.Clusters[i]
			v, err := checkEndpoint(ctx, o.GlobalOptions, c)
			if err != nil {
				failed = errors.Join(failed, fmt.Errorf("%s: %w", c.Name, err))
				continue
			}
			verified[c.Name] = v
			fmt.Fprintf(o.ErrOut, "%s: endpoint %s verified\n", c.Name, c.Server)
		}
		if failed != nil {
			return fmt.Errorf("nothing was imported:\n%w", failed)
		}
	}
	if o.DryRun {
		fmt.Fprintf(o.ErrOut, "Dry run: would register %v in %s\n", p.Names(), o.Registry)
		return nil
	}
	if err := (&profile.Registry{Path: o.Registry}).Update(func(reg *profile.Profile) error {
		for _, c := range p.Clusters {
			reg.Upsert(c)
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Registered %s. Next: kubectl securekapi use %s\n", strings.Join(p.Names(), ", "), p.Clusters[0].Name)
	return approveClusters(o.GlobalOptions, p.Clusters, verified, o.Approve, "import")
}

func (o *ImportOptions) read(ctx context.Context) ([]byte, error) {
	switch {
	case strings.HasPrefix(o.Source, "http://"):
		return nil, errors.New("profiles are fetched over verified https only; use an https:// URL")
	case strings.HasPrefix(o.Source, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.Source, nil)
		if err != nil {
			return nil, err
		}
		resp, err := o.HTTPClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch profile: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch profile %s: %s", o.Source, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, maxProfileBytes))
	case o.Source == "-":
		return io.ReadAll(io.LimitReader(o.In, maxProfileBytes))
	default:
		return os.ReadFile(o.Source)
	}
}
