// Package doctor is `kubectl securekapi doctor`: it checks each step from the
// kubeconfig entry to the API server (endpoint, pins, tunnel, token, identity,
// streaming) and says what to fix at the first one that fails.
package doctor

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/kubeapi"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// DoctorOptions walks the whole path from kubeconfig to the API server and
// reports one line per check, with the fix when one fails.
type DoctorOptions struct {
	genericiooptions.IOStreams
	StdoutIsTTY     bool
	Getenv          func(string) string
	Now             func() time.Time
	Secrets         *redact.Secrets
	Issuer          func(ctx context.Context, s oidc.Settings) (oidc.Issuer, error)
	KubeContext     func() string
	KubeconfigStore func() *kubeconfig.Store
	OpenTokenStore  func(a *cmdutil.AccessFlags) (tokenstore.Store, string, error)
	Registry        func() (*profile.Registry, error)
	Tunnels         func() tunnel.Env

	Name    string
	Output  string
	Timeout time.Duration
	// WatchTime is how long the streaming probe holds a watch open; Quick
	// skips the streaming probe.
	WatchTime time.Duration
	Quick     bool
	// NewProber builds the client for the bound API server; nil means
	// kubeapi.NewPinned. Tests put a fake here.
	NewProber func(kubeapi.Pinned) (kubeapi.Prober, error)
}

// Check is one step of the walk.
type Check struct {
	Name   Step   `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Status is a check's outcome.
type Status string

// The outcomes; a fail exits 1.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// NewCmdDoctor returns the doctor command.
func NewCmdDoctor(g *cmdutil.Factory) *cobra.Command { return newCmdDoctor(g, nil) }

// newDoctorOptions copies what doctor uses from the Factory.
func newDoctorOptions(g *cmdutil.Factory) *DoctorOptions {
	return &DoctorOptions{IOStreams: g.IOStreams, StdoutIsTTY: g.StdoutIsTTY, Getenv: g.Getenv, Now: g.Now, Secrets: g.Secrets,
		Issuer: g.Issuer, KubeContext: g.KubeContext, KubeconfigStore: g.KubeconfigStore, OpenTokenStore: g.OpenTokenStore,
		Registry: g.Registry, Tunnels: g.Tunnels}
}

// newCmdDoctor wires the flags to DoctorOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdDoctor(g *cmdutil.Factory, runF func(*DoctorOptions) error) *cobra.Command {
	o := newDoctorOptions(g)
	cmd := &cobra.Command{
		Use:   "doctor [CONTEXT]",
		Short: "Check every step from kubeconfig to the API server and say what to fix",
		Example: `  kubectl securekapi doctor
  kubectl securekapi doctor cluster-a -o json
  kubectl securekapi doctor --quick`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cmdutil.CompleteClusterName(g.Registry),
		RunE:              cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml for machine-readable output")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Second, "Timeout for each network check")
	cmd.Flags().DurationVar(&o.WatchTime, "watch-time", 60*time.Second, "How long the streaming probe holds a watch open through the endpoint")
	cmd.Flags().BoolVar(&o.Quick, "quick", false, "Skip the streaming probe (held watch and upgrade request)")
	return cmd
}

// Complete takes the context name.
func (o *DoctorOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	return nil
}

// Validate checks the output format and the durations.
func (o *DoctorOptions) Validate() error {
	if err := cmdutil.ValidateOutput(o.Output); err != nil {
		return err
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout %s: give a positive duration such as 10s", o.Timeout)
	}
	if o.WatchTime < 0 {
		return fmt.Errorf("--watch-time %s: give a duration such as 60s, or --quick to skip the streaming probe", o.WatchTime)
	}
	return nil
}

// doctorState carries what earlier checks found to later ones.
type doctorState struct {
	entryRead bool // the kubeconfig step passed
	cluster   *clientcmdapi.Cluster
	access    *cmdutil.AccessFlags
	caCerts   []*x509.Certificate
	token     string
	claims    *token.Claims   // the cached token's, read by checkToken
	binding   binding.Binding // set once checkBinding passed
	// namespace is the context's, where the streaming probe looks.
	namespace string
	// proxyURL is the proxy kubectl takes (the cluster's proxy-url, else
	// HTTPS_PROXY's), nil without one; proxySource says which.
	proxyURL    *url.URL
	proxySource string
	// dial reaches the endpoint: through the tunnel when the cluster has
	// one, else through proxyURL when set, else nil for a direct
	// connection. route says which, for the messages (" through ...").
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	route   string
	cleanup []func()
	// execCommand is the command the context's exec stanza runs, once the
	// kubeconfig step found our stanza.
	execCommand string
}

// Step names a check of the walk: what doctor prints and what -o json
// consumers match on.
type Step string

// The steps of the walk, in order.
const (
	StepKubeconfig   Step = "kubeconfig entry"
	StepPluginPolicy Step = "exec plugin policy"
	StepTunnel       Step = "tunnel"
	StepDial         Step = "DNS and TCP to the endpoint"
	StepTLS          Step = "TLS chain and pins"
	StepBinding      Step = "token binding"
	StepDiscovery    Step = "OIDC discovery"
	StepToken        Step = "cached token"
	StepVersion      Step = "API /version"
	StepWhoami       Step = "identity (SelfSubjectReview)"
	StepWatch        Step = "watch held open"
	StepUpgrade      Step = "upgrade (exec) through the hop"
)

// step is one check of the walk and how it relates to the others.
type step struct {
	name Step
	run  func(context.Context, *doctorState) Check
	// extra is the time beyond --timeout the step needs by design.
	extra time.Duration
	// independent steps need no earlier one: they run after a failure.
	independent bool
	// blocksNothing: its failure skips no later step (a watch cut short
	// does not stop the upgrade probe from telling its own story).
	blocksNothing bool
}

// steps is the walk, in order.
func (o *DoctorOptions) steps() []step {
	return []step{
		{name: StepKubeconfig, run: o.checkKubeconfig},
		{name: StepPluginPolicy, run: o.checkPluginPolicy, independent: true},
		{name: StepTunnel, run: o.checkTunnel},
		{name: StepDial, run: o.checkDial},
		{name: StepTLS, run: o.checkTLS},
		// The binding needs only the kubeconfig entry: an overridden
		// cluster is named even when the path to it fails (a hostile proxy
		// on it fails the TLS check first).
		{name: StepBinding, run: o.checkBinding, independent: true},
		{name: StepDiscovery, run: o.checkDiscovery},
		{name: StepToken, run: o.checkToken},
		{name: StepVersion, run: o.checkVersion},
		{name: StepWhoami, run: o.checkWhoami},
		{name: StepWatch, run: o.checkWatch, extra: o.WatchTime, blocksNothing: true},
		{name: StepUpgrade, run: o.checkUpgrade},
	}
}

// Run performs the checks in order; a failed check skips those that need it.
func (o *DoctorOptions) Run(ctx context.Context) error {
	st := &doctorState{}
	defer func() {
		for _, f := range st.cleanup {
			f()
		}
	}()
	var checks []Check
	// failed decides the exit code; blocked skips the checks that need an
	// earlier one.
	failed, blocked := false, false
	for _, s := range o.steps() {
		var c Check
		if blocked && !s.independent {
			c = Check{Status: StatusSkip, Detail: "an earlier check failed"}
		} else {
			cctx, cancel := context.WithTimeout(ctx, o.Timeout+s.extra)
			c = s.run(cctx, st)
			cancel()
		}
		c.Name = s.name
		if c.Status == StatusFail {
			failed = true
			blocked = blocked || !s.blocksNothing
		}
		checks = append(checks, c)
	}
	if err := o.print(checks); err != nil {
		return err
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

func (o *DoctorOptions) print(checks []Check) error {
	// A hop that echoes the request it got (doctor quotes a non-API answer)
	// would show the token the identity check sent: what doctor prints
	// passes through the redaction of every token the process has held.
	for i := range checks {
		checks[i].Detail, checks[i].Fix = o.Secrets.Redact(checks[i].Detail), o.Secrets.Redact(checks[i].Fix)
	}
	if done, err := cmdutil.WriteStructured(o.Out, o.Output, checks); done {
		return err
	}
	color := o.StdoutIsTTY && o.Getenv("NO_COLOR") == ""
	for _, c := range checks {
		// Details quote the kubeconfig, the token's claims and what the
		// server answered: escaped for the terminal.
		fmt.Fprintf(o.Out, "%s %-30s %s\n", mark(c.Status, color), c.Name, safetext.EscapeLines(c.Detail))
		if c.Fix != "" {
			fmt.Fprintf(o.Out, "  %-30s fix: %s\n", "", safetext.EscapeLines(c.Fix))
		}
	}
	return nil
}

func mark(status Status, color bool) string {
	text := map[Status]string{StatusOK: "[ok]  ", StatusWarn: "[warn]", StatusFail: "[FAIL]", StatusSkip: "[skip]"}[status]
	if !color {
		return text
	}
	code := map[Status]string{StatusOK: "32", StatusWarn: "33", StatusFail: "31", StatusSkip: "90"}[status]
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func ok(format string, a ...any) Check {
	return Check{Status: StatusOK, Detail: fmt.Sprintf(format, a...)}
}
func fail(fix, format string, a ...any) Check {
	return Check{Status: StatusFail, Detail: fmt.Sprintf(format, a...), Fix: fix}
}
