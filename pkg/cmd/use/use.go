// Package use is `kubectl securekapi use`: it verifies a cluster's endpoint
// live and switches kubeconfig to it, pinned to the verified CA, with the exec
// stanza that binds its tokens to that server.
package use

import (
	"bytes"
	"context"
	"fmt"

	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

// UseOptions verifies a registered cluster's endpoint live and points
// kubeconfig at it, pinned to the verified CA, with securekapi as the exec
// credential plugin.
type UseOptions struct {
	*cmdutil.Factory
	Name     string
	DryRun   bool
	Output   string
	Registry *profile.Registry
	// ExecCommand is what the exec stanza runs; default kubectl-securekapi.
	ExecCommand string
	// Exec holds the exec args use's own flags set (--token-cache); the
	// others come from the registry (cmdutil.AccessFor) and --ci.
	Exec access.Flags
	// Approve approves the cluster to receive the login without asking.
	Approve bool
	// CI sets the cluster up for a CI job (--ci, --ci-grant, ...).
	CI useCIFlags
	// KubercAllow lets use add the exec command to kuberc's
	// credential-plugin allowlist (or turn one on) without asking.
	KubercAllow bool
}

// NewCmdUse returns the use command.
func NewCmdUse(g *cmdutil.Factory) *cobra.Command { return newCmdUse(g, nil) }

// newCmdUse wires the flags to UseOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdUse(g *cmdutil.Factory, runF func(*UseOptions) error) *cobra.Command {
	o := &UseOptions{Factory: g}
	cmd := &cobra.Command{
		Use:   "use [NAME | -]",
		Short: "Verify a cluster's endpoint and switch kubeconfig to it, pinned to its CA",
		Long: `Connect to the cluster's trusted secondary endpoint, verify the presented
chain (CA bundle or system roots, name, dates, and a pin), then write a
kubeconfig cluster whose certificate-authority-data is exactly the verified CA
chain, an exec-credential user, and a context, and make it current.

"use -" switches back to the previous context of the same kubeconfig. "use"
with no name offers a picker at a terminal (type to filter, arrows, Enter to
switch; the current cluster is marked) and lists the registered clusters
otherwise or with -o.

A NAME that is not registered but is a context in kubeconfig is only made
current, like "kubectl config use-context": nothing is verified, pinned or
rewritten, and use says so. Register it ("add" or "import") to pin it.

Single sign-on: kubectl gets a token for the cluster only once you approve
it for its login (issuer, client and scopes). When it is not approved yet,
"use" shows the issuer, server and pins and asks on a terminal; off a
terminal pass --approve. import and add ask the same way.

CI jobs: --ci SOURCE writes a stanza that needs no person (interactiveMode
Never): kubectl gets a short-lived token minted from the CI's own OIDC token
(github: the job's token request; gitlab: the id_tokens variable named by
--ci-token-var; file or env), used directly (--ci-grant ci-token, when the
API server trusts the CI issuer) or exchanged at the cluster's issuer
(--ci-grant token-exchange, RFC 8693). --ci-grant client-credentials uses a
confidential client whose secret is read from --client-secret-file or
--client-secret-env. Tokens are cached in the file store only, never the
keyring, bound to the cluster like every token.`,
		Example: `  kubectl securekapi use cluster-a
  kubectl securekapi use cluster-a --dry-run

  # In a GitHub Actions job (permissions: id-token: write), for an API
  # server that trusts GitHub's issuer for the audience https://kapi.example.com
  kubectl securekapi use cluster-a --ci github --approve

  # In a GitLab job whose id_tokens names KAPI_ID_TOKEN, exchanged at the
  # cluster's issuer (Dex, with an oidc connector "gitlab" for GitLab)
  kubectl securekapi use cluster-a --ci gitlab --ci-token-var KAPI_ID_TOKEN \
    --ci-grant token-exchange --token-exchange-connector-id gitlab --approve
  kubectl securekapi use -
  kubectl securekapi use -o json`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteClusterName(g),
		RunE:              cmdutil.RunE(o, runF),
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Verify and show the kubeconfig change without writing it")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "With no NAME: list format json or yaml (default: a table)")
	cmd.Flags().StringVar(&o.ExecCommand, "exec-command", cmdutil.ExecCommand, "Command the kubeconfig exec stanza runs")
	o.Exec.AddTokenCacheFlag(cmd.Flags())
	cmd.Flags().BoolVar(&o.Approve, "approve", false, cmdutil.ApproveFlagHelp)
	cmd.Flags().BoolVar(&o.KubercAllow, cmdutil.KubercAllowFlag, false,
		"Let kubectl run the exec command under your kuberc (kubectl >= 1.35): add it to credentialPluginAllowlist without asking, or turn an allowlist on that keeps the credential plugins your kubeconfig runs")
	o.CI.addFlags(cmd.Flags())
	return cmd
}

// Complete finds the registry.
func (o *UseOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	var err error
	o.Registry, err = o.Factory.Registry()
	return err
}

// Validate checks the output format and the exec stanza's settings.
func (o *UseOptions) Validate() error {
	if o.Context != "" {
		// --context means "this call only, current context unchanged" to
		// every other command; use changes the current context, so taking
		// the flag either way would surprise someone.
		return fmt.Errorf("use takes the context as its argument, not --context: run `kubectl securekapi use %s`", o.Context)
	}
	if err := cmdutil.ValidateOutput(o.Output); err != nil {
		return err
	}
	if err := o.CI.validate(); err != nil {
		return err
	}
	return o.validateExecFlags()
}

// Run lists, switches back, or verifies and writes.
func (o *UseOptions) Run(ctx context.Context) error {
	switch o.Name {
	case "":
		return o.listOrPick(ctx)
	case "-":
		return o.switchBack()
	}
	reg, err := o.Registry.Load()
	if err != nil {
		return err
	}
	cluster, ok := reg.Find(o.Name)
	if !ok {
		return o.switchToUnregistered(o.Name, reg.Names())
	}
	verified, err := cmdutil.CheckEndpoint(ctx, o.Factory, cluster)
	if err != nil {
		return fmt.Errorf("use %s: %w\nkubeconfig was not changed", o.Name, err)
	}
	return o.write(cluster, verified)
}

func (o *UseOptions) write(c *profile.Cluster, v *trust.Verified) error {
	caPEM := v.CAPEM()
	var rotated, previous string
	exec := o.execConfig(c, v)
	if o.CI.enabled() {
		if err := o.CI.checkIssuer(c); err != nil {
			return fmt.Errorf("use %s: %w\nkubeconfig was not changed", c.Name, err)
		}
		if err := checkStanza(exec); err != nil {
			return fmt.Errorf("use %s --ci: %w\nkubeconfig was not changed", c.Name, err)
		}
	}
	changes, err := o.KubeconfigStore().Modify(func(cfg *clientcmdapi.Config) error {
		if old, ok := cfg.Clusters[c.Name]; ok && len(old.CertificateAuthorityData) > 0 && !bytes.Equal(old.CertificateAuthorityData, caPEM) {
			rotated = chainChangeNote(c.Name, old.Server, pinsOfContext(cfg, c.Name), c.Server, pinsInExecArgs(exec.Args))
		}
		// The kubeconfig helpers keep other tools' extensions on the
		// entries they replace, as kubectl's own writes do.
		kubeconfig.SetCluster(cfg, c.Name, &clientcmdapi.Cluster{
			Server:                   c.Server,
			TLSServerName:            c.TLSServerName,
			CertificateAuthorityData: caPEM,
		})
		kubeconfig.SetExecUser(cfg, userName(c.Name), exec)
		kubeconfig.SetContext(cfg, c.Name, c.Name, userName(c.Name), c.Namespace)
		from, err := kubeconfig.SwitchContext(cfg, c.Name)
		if from != c.Name {
			previous = from
		}
		return err
	}, kubeconfig.ModifyOptions{DryRun: o.DryRun})
	if err != nil {
		return err
	}
	if rotated != "" {
		fmt.Fprintf(o.ErrOut, "Note: %s.\n", rotated)
	}
	if o.DryRun {
		for _, ch := range changes {
			fmt.Fprintf(o.ErrOut, "Dry run: would write %s:\n", ch.File)
			fmt.Fprint(o.Out, kubeconfig.Diff(ch.Before, ch.After))
		}
		return nil
	}
	if previous != "" {
		if err := o.rememberPrevious(previous); err != nil {
			fmt.Fprintf(o.ErrOut, "warning: could not remember the previous context for `use -`: %v\n", err)
		}
	}
	next := "kubectl get ns"
	if c.Tunnel != nil {
		next = fmt.Sprintf("kubectl securekapi run %s -- kubectl get ns (the endpoint is reached through the %s tunnel; `kubectl securekapi proxy %s` keeps one open)", c.Name, c.Tunnel.Gateway, c.Name)
	}
	if o.CI.enabled() {
		fmt.Fprintf(o.ErrOut, "Switched to %s: %s, trusting only %s (%s), for a CI job: kubectl gets tokens by grant %s with no person.\nNext: %s\n",
			c.Name, c.Server, v.CAs[len(v.CAs)-1].Subject, cmdutil.TrustedBy(v), o.CI.grantName(), next)
		o.ensureKubercAllows()
		return o.approveStanza(exec)
	}
	fmt.Fprintf(o.ErrOut, "Switched to %s: %s, trusting only %s (%s).\nNext: kubectl securekapi login %s, then %s\n",
		c.Name, c.Server, v.CAs[len(v.CAs)-1].Subject, cmdutil.TrustedBy(v), c.Name, next)
	o.ensureKubercAllows()
	return cmdutil.ApproveClusters(o.Factory, []profile.Cluster{*c}, map[string]*trust.Verified{c.Name: v}, o.Approve, "use")
}
