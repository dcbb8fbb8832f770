package use

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

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
	Registry string
	// ExecCommand is what the exec stanza runs; default kubectl-securekapi.
	ExecCommand string
	TokenCache  string
	// Approve approves the cluster to receive the login without asking.
	Approve bool
	// CI sets the cluster up for a CI job (--ci, --ci-grant, ...).
	CI useCIFlags
}

// NewCmdUse returns the use command.
func NewCmdUse(g *cmdutil.Factory) *cobra.Command {
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
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Verify and show the kubeconfig change without writing it")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "With no NAME: list format json or yaml (default: a table)")
	cmd.Flags().StringVar(&o.ExecCommand, "exec-command", cmdutil.ExecCommand, "Command the kubeconfig exec stanza runs")
	cmd.Flags().StringVar(&o.TokenCache, "token-cache", "", "Token store the exec stanza asks for: auto, keyring, file or none (default: auto)")
	cmd.Flags().BoolVar(&o.Approve, "approve", false, cmdutil.ApproveFlagHelp)
	o.CI.addFlags(cmd.Flags())
	return cmd
}

// Complete finds the registry.
func (o *UseOptions) Complete(args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	var err error
	o.Registry, err = o.RegistryPath()
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
	reg, err := (&profile.Registry{Path: o.Registry}).Load()
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
			c.Name, c.Server, v.CAs[len(v.CAs)-1].Subject, cmdutil.TrustedBy(v), o.CI.grant(), next)
		return o.approveStanza(exec)
	}
	fmt.Fprintf(o.ErrOut, "Switched to %s: %s, trusting only %s (%s).\nNext: kubectl securekapi login %s, then %s\n",
		c.Name, c.Server, v.CAs[len(v.CAs)-1].Subject, cmdutil.TrustedBy(v), c.Name, next)
	return cmdutil.ApproveClusters(o.Factory, []profile.Cluster{*c}, map[string]*trust.Verified{c.Name: v}, o.Approve, "use")
}

// chainChangeNote says why the CA chain kubeconfig trusts for a cluster
// changes. Only a new chain behind the same server under the same pins is a
// CA rotation; new pins or a new server mean the registration itself was
// replaced (`import --replace`, `add`), and calling that a rotation would
// dress a change of trust up as routine.
func chainChangeNote(name, oldServer string, oldPins []string, newServer string, newPins []string) string {
	if oldServer == newServer && len(oldPins) > 0 && slices.Equal(sorted(oldPins), sorted(newPins)) {
		return "the endpoint's CA chain changed since the last use and still matches the pins (a CA rotation); kubeconfig now trusts the new chain"
	}
	var what []string
	if oldServer != newServer {
		what = append(what, fmt.Sprintf("server %s -> %s", oldServer, newServer))
	}
	if !slices.Equal(sorted(oldPins), sorted(newPins)) {
		what = append(what, fmt.Sprintf("pins %s -> %s", cmdutil.OrDash(strings.Join(oldPins, ", ")), strings.Join(newPins, ", ")))
	}
	return fmt.Sprintf("%s's registered trust settings changed since the last use (%s), so this is not a CA rotation; kubeconfig now trusts only the chain verified against the new settings",
		name, strings.Join(what, "; "))
}

// pinsOfContext reads the --pin values kubeconfig's securekapi exec stanza
// for the context holds, or nil when it has none readable.
func pinsOfContext(cfg *clientcmdapi.Config, contextName string) []string {
	args, err := cmdutil.SecurekapiExecArgs(cfg, contextName)
	if err != nil {
		return nil
	}
	return pinsInExecArgs(args)
}

// pinsInExecArgs parses exec args with the credential command's own flags.
func pinsInExecArgs(args []string) []string {
	if len(args) > 0 && args[0] == "credential" {
		args = args[1:]
	}
	a := &cmdutil.AccessFlags{}
	if _, err := a.ParseExecArgs(args); err != nil {
		return nil
	}
	return a.Pins
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// execConfig is the exec stanza: kubectl runs the plugin with every setting
// it needs as args (self-contained), tells it the server and CA it is using
// (provideClusterInfo), and lets it prompt only when a person is there.
func (o *UseOptions) execConfig(c *profile.Cluster, v *trust.Verified) *clientcmdapi.ExecConfig {
	issuer, clientID := c.OIDC.IssuerURL, c.OIDC.ClientID
	if o.CI.enabled() {
		issuer, clientID = o.CI.client(c)
	}
	args := []string{"credential", "--cluster-name", c.Name,
		"--oidc-issuer-url", issuer, "--oidc-client-id", clientID,
		"--server", c.Server,
		"--tls-server-name", trust.Endpoint{URL: c.Server, TLSServerName: c.TLSServerName}.ServerName()}
	for _, p := range cmdutil.ExecPins(c, v) {
		args = append(args, "--pin", p)
	}
	// The cluster's scopes and parameters are its issuer's: a CI grant at
	// another issuer (the CI's own, a client credentials server) takes none.
	if !o.CI.enabled() || o.CI.usesClusterIssuer(c) {
		for _, s := range c.OIDC.ExtraScopes {
			args = append(args, "--oidc-extra-scope", s)
		}
		for k, val := range c.OIDC.ExtraParams {
			args = append(args, "--oidc-auth-request-extra-params", k+"="+val)
		}
	}
	caFile := c.OIDC.CAFile
	if o.CI.enabled() {
		caFile = o.CI.caFile(c)
	}
	if caFile != "" {
		args = append(args, "--oidc-ca-file", caFile)
	}
	if o.TokenCache != "" {
		args = append(args, "--token-cache", o.TokenCache)
	}
	interactive := clientcmdapi.IfAvailableExecInteractiveMode
	if o.CI.enabled() {
		args = append(args, o.CI.execArgs()...)
		if o.CI.grant() != access.GrantAuto { // auto is also a person's login
			interactive = clientcmdapi.NeverExecInteractiveMode // no person: kubectl never hands it a terminal
		}
	}
	return &clientcmdapi.ExecConfig{
		APIVersion:         "client.authentication.k8s.io/v1",
		Command:            o.ExecCommand,
		Args:               args,
		InteractiveMode:    interactive,
		ProvideClusterInfo: true,
		InstallHint: `securekapi provides tokens for this cluster. Install it with krew:
  kubectl krew install securekapi
or download kubectl-securekapi from the project's releases and put it on your PATH.`,
	}
}

func userName(cluster string) string { return "securekapi-" + cluster }

// previousStore remembers the previous context of the kubeconfig this use
// works on, next to the cluster registry.
func (o *UseOptions) previousStore() (*kubeconfig.PreviousContextStore, error) {
	files, err := o.KubeconfigStore().Files()
	if err != nil {
		return nil, err
	}
	return kubeconfig.PreviousContextFor(filepath.Dir(o.Registry), files)
}

func (o *UseOptions) rememberPrevious(name string) error {
	store, err := o.previousStore()
	if err != nil {
		return err
	}
	return store.Set(name)
}

// switchBack makes the previous context current again, as `kubectx -` does.
func (o *UseOptions) switchBack() error {
	var prev string
	store, err := o.previousStore()
	if err == nil {
		prev, err = store.Get()
	}
	if err != nil || prev == "" {
		return errors.New("no previous context recorded yet for this kubeconfig; `use NAME` records the one it switches away from")
	}
	if err := o.switchContext(prev, fmt.Sprintf("the previous context %q is no longer in the kubeconfig", prev)); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Switched to context %q.\n", prev)
	return nil
}

// switchToUnregistered makes a kubeconfig context that is not a registered
// cluster current, as `kubectl config use-context` would, and says that
// nothing was verified or pinned: only registered clusters are.
func (o *UseOptions) switchToUnregistered(name string, registered []string) error {
	addName := name
	if profile.CheckName(name) != nil {
		addName = "NAME" // add would refuse this one: suggest nothing it rejects
	}
	notFound := fmt.Sprintf("no cluster %q is registered and the kubeconfig has no such context; add it with `kubectl securekapi add %s --server ...` or `kubectl securekapi import PROFILE` (registered: %v)", name, addName, registered)
	if err := o.switchContext(name, notFound); err != nil {
		return err
	}
	verb := "Switched"
	if o.DryRun {
		verb = "Dry run: would switch"
	}
	fmt.Fprintf(o.ErrOut, "%s to kubeconfig context %q. It is not a registered securekapi cluster, so its endpoint was not verified and nothing was pinned; its kubeconfig entries are unchanged. To verify and pin it, register it: kubectl securekapi add %s --server ... (or import a profile), then use %s again.\n", verb, name, name, name)
	return nil
}

// switchContext makes an existing context current, changing nothing else,
// and remembers the one it leaves for `use -`; missing is the error when
// the kubeconfig has no such context.
func (o *UseOptions) switchContext(name, missing string) error {
	var from string
	if _, err := o.KubeconfigStore().Modify(func(cfg *clientcmdapi.Config) error {
		var err error
		if from, err = kubeconfig.SwitchContext(cfg, name); err != nil {
			return errors.New(missing)
		}
		return nil
	}, kubeconfig.ModifyOptions{DryRun: o.DryRun}); err != nil {
		return err
	}
	if !o.DryRun && from != "" && from != name {
		if err := o.rememberPrevious(from); err != nil {
			fmt.Fprintf(o.ErrOut, "warning: could not remember the previous context for `use -`: %v\n", err)
		}
	}
	return nil
}

// list prints the registered clusters.
func (o *UseOptions) list() error {
	reg, err := (&profile.Registry{Path: o.Registry}).Load()
	if err != nil {
		return err
	}
	clusters := reg.Clusters
	if clusters == nil {
		clusters = []profile.Cluster{} // [] rather than null for scripts
	}
	if done, err := cmdutil.WriteStructured(o.Out, o.Output, clusters); done {
		return err
	}
	if len(reg.Clusters) == 0 {
		fmt.Fprintln(o.ErrOut, "No clusters registered. Add one with `kubectl securekapi add` or `kubectl securekapi import PROFILE`.")
		return nil
	}
	current := ""
	if cfg, err := o.KubeconfigStore().Load(); err == nil {
		current = cfg.CurrentContext
	}
	w := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CURRENT\tNAME\tSERVER\tISSUER")
	for _, c := range reg.Clusters {
		mark := ""
		if c.Name == current {
			mark = "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", mark, c.Name, c.Server, c.OIDC.IssuerURL)
	}
	return w.Flush()
}
