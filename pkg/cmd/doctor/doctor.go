package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/execinfo"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/tokencache"
	"github.com/securekapi/securekapi/pkg/trust"
)

// DoctorOptions walks the whole path from kubeconfig to the API server and
// reports one line per check, with the fix when one fails.
type DoctorOptions struct {
	*cmdutil.Factory
	Name    string
	Output  string
	Timeout time.Duration
	// WatchTime is how long the streaming probe holds a watch open; Quick
	// skips the streaming probe.
	WatchTime time.Duration
	Quick     bool
}

// Check is one step of the walk.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok, warn, fail, skip
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// NewCmdDoctor returns the doctor command.
func NewCmdDoctor(g *cmdutil.Factory) *cobra.Command {
	o := &DoctorOptions{Factory: g}
	cmd := &cobra.Command{
		Use:   "doctor [CONTEXT]",
		Short: "Check every step from kubeconfig to the API server and say what to fix",
		Example: `  kubectl securekapi doctor
  kubectl securekapi doctor cluster-a -o json
  kubectl securekapi doctor --quick`,
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
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "json or yaml for machine-readable output")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Second, "Timeout for each network check")
	cmd.Flags().DurationVar(&o.WatchTime, "watch-time", 60*time.Second, "How long the streaming probe holds a watch open through the endpoint")
	cmd.Flags().BoolVar(&o.Quick, "quick", false, "Skip the streaming probe (held watch and upgrade request)")
	return cmd
}

// Complete takes the context name.
func (o *DoctorOptions) Complete(args []string) error {
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
	cluster *clientcmdapi.Cluster
	access  *cmdutil.AccessFlags
	caCerts []*x509.Certificate
	token   string
	claims  *oidc.Claims       // the cached token's, read by checkToken
	binding credential.Binding // set once checkBinding passed
	// namespace is the context's, where the streaming probe looks.
	namespace string
	// dial reaches the endpoint; through the tunnel when the cluster has
	// one, else nil for a direct connection.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	cleanup []func()
}

// The steps of the walk, in order; their names are what doctor prints and
// what -o json consumers match on.
const (
	stepKubeconfig   = "kubeconfig entry"
	stepPluginPolicy = "exec plugin policy"
	stepTunnel       = "tunnel"
	stepDial         = "DNS and TCP to the endpoint"
	stepTLS          = "TLS chain and pins"
	stepBinding      = "token binding"
	stepDiscovery    = "OIDC discovery"
	stepToken        = "cached token"
	stepVersion      = "API /version"
	stepWhoami       = "identity (SelfSubjectReview)"
	stepWatch        = "watch held open"
	stepUpgrade      = "upgrade (exec) through the hop"
)

// Run performs the checks in order; a failed check skips those that need it.
func (o *DoctorOptions) Run(ctx context.Context) error {
	st := &doctorState{}
	defer func() {
		for _, f := range st.cleanup {
			f()
		}
	}()
	var checks []Check
	steps := []struct {
		name string
		run  func(context.Context, *doctorState) Check
		// extra time beyond --timeout the step needs by design
		extra time.Duration
	}{
		{stepKubeconfig, o.checkKubeconfig, 0},
		{stepPluginPolicy, o.checkPluginPolicy, 0},
		{stepTunnel, o.checkTunnel, 0},
		{stepDial, o.checkDial, 0},
		{stepTLS, o.checkTLS, 0},
		{stepBinding, o.checkBinding, 0},
		{stepDiscovery, o.checkDiscovery, 0},
		{stepToken, o.checkToken, 0},
		{stepVersion, o.checkVersion, 0},
		{stepWhoami, o.checkWhoami, 0},
		{stepWatch, o.checkWatch, o.WatchTime},
		{stepUpgrade, o.checkUpgrade, 0},
	}
	// failed decides the exit code; blocked skips the checks that need an
	// earlier one. A watch cut short blocks nothing: the upgrade probe
	// still tells its own story.
	failed, blocked := false, false
	for _, s := range steps {
		var c Check
		if blocked && s.name != stepPluginPolicy {
			c = Check{Status: "skip", Detail: "an earlier check failed"}
		} else {
			cctx, cancel := context.WithTimeout(ctx, o.Timeout+s.extra)
			c = s.run(cctx, st)
			cancel()
		}
		c.Name = s.name
		if c.Status == "fail" {
			failed = true
			blocked = blocked || s.name != stepWatch
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
	if done, err := cmdutil.WriteStructured(o.Out, o.Output, checks); done {
		return err
	}
	color := cmdutil.IsTerminal(o.Out) && o.Getenv("NO_COLOR") == ""
	for _, c := range checks {
		fmt.Fprintf(o.Out, "%s %-30s %s\n", mark(c.Status, color), c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(o.Out, "  %-30s fix: %s\n", "", c.Fix)
		}
	}
	return nil
}

func mark(status string, color bool) string {
	text := map[string]string{"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}[status]
	if !color {
		return text
	}
	code := map[string]string{"ok": "32", "warn": "33", "fail": "31", "skip": "90"}[status]
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func ok(format string, a ...any) Check { return Check{Status: "ok", Detail: fmt.Sprintf(format, a...)} }
func fail(fix, format string, a ...any) Check {
	return Check{Status: "fail", Detail: fmt.Sprintf(format, a...), Fix: fix}
}

func (o *DoctorOptions) checkKubeconfig(_ context.Context, st *doctorState) Check {
	cfg, err := o.KubeconfigStore().Load()
	if err != nil {
		return fail("fix the file named above", "%v", err)
	}
	name := firstNonEmpty(o.Name, o.Context, cfg.CurrentContext)
	if name == "" {
		return fail("kubectl securekapi use NAME", "no context named and no current context")
	}
	args, err := cmdutil.SecurekapiExecArgs(cfg, name)
	if err != nil {
		return fail("kubectl securekapi use "+name, "%v", err)
	}
	a := &cmdutil.AccessFlags{}
	if _, err := a.ParseExecArgs(args); err != nil {
		return fail("kubectl securekapi use "+name, "exec args unreadable: %v", err)
	}
	st.access = a
	st.namespace = firstNonEmpty(cfg.Contexts[name].Namespace, "default")
	st.cluster = cfg.Clusters[cfg.Contexts[name].Cluster]
	if st.cluster == nil {
		return fail("kubectl securekapi use "+name, "context %q names a missing cluster", name)
	}
	if len(st.cluster.CertificateAuthorityData) == 0 {
		return fail("kubectl securekapi use "+name, "cluster has no certificate-authority-data: kubectl would trust the whole system store")
	}
	if st.caCerts, err = trust.ParsePEMCertificates(st.cluster.CertificateAuthorityData); err != nil {
		return fail("kubectl securekapi use "+name, "certificate-authority-data: %v", err)
	}
	return ok("context %s -> %s (exec: %s)", name, st.cluster.Server, cfg.AuthInfos[cfg.Contexts[name].AuthInfo].Exec.Command)
}

// checkPluginPolicy reads kubectl's kuberc (kubectl >= 1.33) for an exec
// plugin policy that would block securekapi.
func (o *DoctorOptions) checkPluginPolicy(context.Context, *doctorState) Check {
	path := o.Getenv("KUBERC")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".kube", "kuberc")
	}
	if path == "off" {
		return ok("kuberc is off: kubectl allows every exec plugin")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ok("no kuberc: kubectl allows every exec plugin")
	}
	if err != nil {
		return Check{Status: "warn", Detail: fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	var rc struct {
		Policy    string `json:"credentialPluginPolicy"`
		Allowlist []struct {
			Name    string `json:"name"`
			Command string `json:"command"`
		} `json:"credentialPluginAllowlist"`
	}
	if err := yaml.Unmarshal(data, &rc); err != nil {
		return Check{Status: "warn", Detail: fmt.Sprintf("cannot parse %s: %v", path, err)}
	}
	switch rc.Policy {
	case "", "AllowAll":
		return ok("%s allows every exec plugin", path)
	case "DenyAll":
		return fail("set credentialPluginPolicy: Allowlist with "+cmdutil.ExecCommand+" in "+path, "%s denies every exec plugin", path)
	}
	for _, e := range rc.Allowlist {
		if strings.Contains(e.Name+e.Command, "securekapi") {
			return ok("%s allowlists %s", path, firstNonEmpty(e.Name, e.Command))
		}
	}
	return fail("add {name: "+cmdutil.ExecCommand+"} to credentialPluginAllowlist in "+path, "%s policy %s does not list securekapi", path, rc.Policy)
}

func (o *DoctorOptions) checkDial(ctx context.Context, st *doctorState) Check {
	u, err := url.Parse(st.cluster.Server)
	if err != nil {
		return fail("kubectl securekapi use", "server URL: %v", err)
	}
	addr, err := trust.Endpoint{URL: st.cluster.Server}.Address()
	if err != nil {
		return fail("kubectl securekapi use", "server URL: %v", err)
	}
	if st.dial != nil {
		conn, err := st.dial(ctx, "tcp", addr)
		if err != nil {
			return fail("check the endpoint address in the profile; the gateway could not reach it", "connect %s through the tunnel: %v", u.Host, err)
		}
		conn.Close()
		return ok("%s accepts connections through the tunnel (the gateway resolves and dials it)", u.Host)
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, u.Hostname())
	if err != nil {
		return fail("check the host name and your DNS/VPN", "resolve %s: %v", u.Hostname(), err)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fail("is the endpoint up, and reachable from here (VPN, firewall, tunnel)?", "connect %s: %v", addr, err)
	}
	conn.Close()
	return ok("%s resolves to %s and accepts connections", u.Host, strings.Join(addrs, ", "))
}

func (o *DoctorOptions) checkTLS(ctx context.Context, st *doctorState) Check {
	pins, err := trust.ParsePins(st.access.Pins)
	if err != nil {
		return fail("kubectl securekapi use", "pins: %v", err)
	}
	ep := trust.Endpoint{URL: st.cluster.Server, TLSServerName: st.cluster.TLSServerName}
	v, err := trust.Check(ctx, ep, trust.Policy{CABundle: st.caCerts, Pins: pins, Now: o.Now()}, trust.FetchOptions{Timeout: o.Timeout, DialContext: st.dial})
	if err != nil {
		return fail("if the platform owner rotated the CA, get the new pin from them and run `kubectl securekapi add`/`use` again", "%v", err)
	}
	leaf := v.Chain[0]
	left := leaf.NotAfter.Sub(o.Now())
	if left < 30*24*time.Hour {
		return Check{Status: "warn", Detail: fmt.Sprintf("chain verified (%s) but the certificate expires in %s", cmdutil.TrustedBy(v), left.Round(time.Hour)), Fix: "tell the platform owner to renew the endpoint certificate"}
	}
	return ok("chain verified (%s); certificate valid until %s", cmdutil.TrustedBy(v), leaf.NotAfter.Format(time.DateOnly))
}

// checkBinding applies the credential plugin's own check to the kubeconfig
// cluster before doctor reads a token: a cluster entry overridden by an
// earlier KUBECONFIG file or an edit must not get the token from doctor
// either.
func (o *DoctorOptions) checkBinding(_ context.Context, st *doctorState) Check {
	b, err := st.access.Binding()
	if err == nil {
		err = b.Check(&execinfo.Cluster{
			Server: st.cluster.Server, TLSServerName: st.cluster.TLSServerName, ProxyURL: st.cluster.ProxyURL,
			CAData: st.cluster.CertificateAuthorityData, InsecureSkipTLSVerify: st.cluster.InsecureSkipTLSVerify,
		})
	}
	if err != nil {
		return fail("kubectl securekapi use "+st.access.Cluster, "kubectl would get no token: %v", err)
	}
	st.binding = b
	return ok("kubeconfig trusts only the pinned CA for %s, as the exec stanza binds it", b.Server)
}

func (o *DoctorOptions) checkDiscovery(ctx context.Context, st *doctorState) Check {
	p, err := o.Discover(ctx, st.access.Settings())
	if err != nil {
		return fail("is the OIDC provider up and reachable? (check --oidc-issuer-url and --oidc-ca-file)", "%v", err)
	}
	flows := "browser"
	if p.HasDeviceFlow() {
		flows += ", device code"
	}
	return ok("%s answers (flows: %s)", st.access.Issuer, flows)
}

func (o *DoctorOptions) checkToken(_ context.Context, st *doctorState) Check {
	// The checks after this one send the token to the endpoint: never to
	// one the user has not approved for this login.
	if err := o.checkApproved(st); err != nil {
		return fail("kubectl securekapi login "+st.access.Cluster, "%v", err)
	}
	store, _, err := o.OpenTokenStore(st.access)
	if err != nil {
		return fail("pass --token-cache file, or unlock the keyring", "%v", err)
	}
	ts, err := store.Get(credential.KeyFor(st.access.Settings()))
	switch {
	case tokencache.Unreadable(err):
		// A locked or unreachable keyring: logging in again would fail on
		// the same store.
		return fail("unlock the OS keyring, or switch this cluster to --token-cache file", "cannot read the %s store: %v", store.Kind(), err)
	case err != nil:
		return fail("kubectl securekapi login "+st.access.Cluster, "no usable cached token in the %s store (%v)", store.Kind(), err)
	}
	claims, err := oidc.PeekClaims(ts.IDToken)
	if err != nil {
		return fail("kubectl securekapi login "+st.access.Cluster, "cached token is unreadable: %v", err)
	}
	if !claims.Expiry.After(o.Now()) {
		if ts.RefreshToken != "" {
			return Check{Status: "warn", Detail: fmt.Sprintf("%s's token expired at %s; kubectl will refresh it", tokenHolder(claims), claims.Expiry.Format(time.RFC3339))}
		}
		return fail("kubectl securekapi login "+st.access.Cluster, "token expired at %s and cannot be refreshed", claims.Expiry.Format(time.RFC3339))
	}
	st.token, st.claims = ts.IDToken, claims
	return ok("%s, valid until %s (%s store)", tokenHolder(claims), claims.Expiry.Local().Format(time.RFC3339), store.Kind())
}

// tokenHolder names whom a token is for: the email when it carries one,
// else the subject, which every ID token has.
func tokenHolder(c *oidc.Claims) string {
	if c.Email != "" {
		return c.Email
	}
	return fmt.Sprintf("subject %s (no email claim)", c.Subject)
}

// checkApproved is the credential path's approval check for this context.
func (o *DoctorOptions) checkApproved(st *doctorState) error {
	approvals, err := cmdutil.ApprovalStore(o.Factory, st.access)
	if err != nil {
		return err
	}
	binding, err := st.access.Binding()
	if err != nil {
		return err
	}
	return credential.CheckApproved(approvals, credential.KeyFor(st.access.Settings()), binding, st.access.LoginCommand())
}

// checkTunnel starts the loopback proxy when the registered cluster has a
// tunnel, proves the gateway accepts us and reaches the endpoint, and routes
// the checks after it through the tunnel, as kubectl's traffic would go.
func (o *DoctorOptions) checkTunnel(ctx context.Context, st *doctorState) Check {
	c, err := cmdutil.RegisteredCluster(o.Factory, st.access.Cluster)
	if err != nil || c.Tunnel == nil {
		return Check{Status: "skip", Detail: "no tunnel configured for this cluster"}
	}
	p, err := cmdutil.StartTunnel(context.Background(), o.Factory, c, "127.0.0.1:0")
	if err != nil {
		return fail("check the tunnel settings: `kubectl securekapi add "+c.Name+" --tunnel-...`", "%v", err)
	}
	st.cleanup = append(st.cleanup, func() { cmdutil.StopTunnel(p) })
	target, err := trust.Endpoint{URL: c.Server}.Address()
	if err != nil {
		return fail("kubectl securekapi add "+c.Name, "%v", err)
	}
	// The gateway's own answers first, with the diagnosis of a refusal;
	// then the path kubectl takes, through the loopback proxy.
	gw, err := p.CheckGateway(ctx, target)
	if err == nil {
		var conn net.Conn
		if conn, err = p.Dial(ctx, target); err == nil {
			conn.Close()
		}
	}
	if err != nil {
		return fail(cmdutil.GatewayFix(err, "is the gateway up, does it accept your client certificate, and does its certificate match --tunnel-ca-file/--tunnel-pin?"), "%v", err)
	}
	st.dial = func(ctx context.Context, _, addr string) (net.Conn, error) { return p.Dial(ctx, addr) }
	switch {
	case !gw.ClientCertRequested:
		return Check{Status: "warn", Detail: fmt.Sprintf("gateway %s reached %s without asking for a client certificate: it does not enforce mutual TLS", c.Tunnel.Gateway, target),
			Fix: "tell the platform owner to require client certificates on the gateway (Squid clientca=, stunnel requireCert = yes, HAProxy verify required, nginx ssl_verify_client on)"}
	case gw.ResumptionRefused:
		return Check{Status: "warn", Detail: fmt.Sprintf("gateway %s (%s mode) accepted the client certificate and reached %s, but refuses to resume TLS sessions, so every kubectl connection pays a full handshake", c.Tunnel.Gateway, c.Tunnel.Mode, target),
			Fix: "tell the platform owner to set a TLS session ID context on the gateway (Squid: https_port ... sslcontext=NAME)"}
	}
	return ok("gateway %s (%s mode) accepted the client certificate and reached %s", c.Tunnel.Gateway, c.Tunnel.Mode, target)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
