// Package pin is `kubectl securekapi pin`: it shows an endpoint's verified
// chain and the sha256 SPKI pin a platform owner hands to users.
package pin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// PinOptions shows an endpoint's presented chain and the pin to publish.
type PinOptions struct {
	genericiooptions.IOStreams
	URL           string
	TLSServerName string
	Output        string
}

// NewCmdPin returns the pin command.
func NewCmdPin(g *cmdutil.Factory) *cobra.Command { return newCmdPin(g, nil) }

// newCmdPin wires the flags to PinOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdPin(g *cmdutil.Factory, runF func(*PinOptions) error) *cobra.Command {
	o := &PinOptions{IOStreams: g.IOStreams}
	cmd := &cobra.Command{
		Use:   "pin https://host[:port]",
		Short: "Show an endpoint's certificate chain and the sha256 pin to hand to users",
		Long: `For platform owners: connect to the endpoint, print each presented
certificate (subject, issuer, validity, SPKI pin) and the pin to publish: the
one of the top CA in the chain, so a leaf renewal keeps it valid. Compare it
out of band before you publish it; this command does not verify the chain.`,
		Example: `  kubectl securekapi pin https://kapi.example.com
  kubectl securekapi pin https://10.0.0.5:6443 --tls-server-name kapi.example.com -o json`,
		Args: cobra.ExactArgs(1),
		RunE: cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVar(&o.TLSServerName, "tls-server-name", "", "SNI name to send")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml for machine-readable output")
	return cmd
}

// Complete takes the endpoint URL.
func (o *PinOptions) Complete(_ *cobra.Command, args []string) error {
	o.URL = args[0]
	return nil
}

// Validate checks the output format.
func (o *PinOptions) Validate() error { return cmdutil.ValidateOutput(o.Output) }

// Run fetches and prints.
func (o *PinOptions) Run(ctx context.Context) error {
	certs, err := trust.FetchChain(ctx, pinning.Endpoint{URL: o.URL, TLSServerName: o.TLSServerName}, trust.FetchOptions{Timeout: cmdutil.EndpointTimeout})
	if err != nil {
		return err
	}
	summary := trust.Summarize(certs)
	publish := summary[len(summary)-1].Pin
	if done, err := cmdutil.WriteStructured(o.Out, o.Output, struct {
		Chain []trust.CertSummary `json:"chain"`
		Pin   pinning.Pin         `json:"pin"`
	}{summary, publish}); done {
		return err
	}
	for i, c := range summary {
		fmt.Fprintf(o.ErrOut, "[%d] subject: %s\n    issuer:  %s\n    valid:   %s to %s\n    pin:     %s\n",
			i, c.Subject, c.Issuer, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), c.Pin)
		if len(c.DNSNames)+len(c.IPs) > 0 {
			fmt.Fprintf(o.ErrOut, "    names:   %s\n", strings.Join(append(append([]string{}, c.DNSNames...), c.IPs...), ", "))
		}
	}
	if !summary[len(summary)-1].IsCA {
		fmt.Fprintln(o.ErrOut, "Note: the endpoint does not send its CA certificate; this pin is the leaf's and changes when the leaf is renewed. Prefer pinning the CA.")
	}
	fmt.Fprintln(o.ErrOut, "Pin to publish:")
	fmt.Fprintln(o.Out, publish)
	return nil
}
