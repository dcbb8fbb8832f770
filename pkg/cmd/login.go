package cmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mdp/qrterminal/v3"
	"github.com/spf13/cobra"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// LoginOptions logs in to a cluster's OIDC issuer and caches the tokens.
type LoginOptions struct {
	*GlobalOptions
	Access AccessFlags
	Name   string
	// Approve approves the cluster to receive this login without asking.
	Approve bool
}

// NewCmdLogin returns the login command.
func NewCmdLogin(g *GlobalOptions) *cobra.Command {
	o := &LoginOptions{GlobalOptions: g}
	cmd := &cobra.Command{
		Use:   "login [CLUSTER]",
		Short: "Log in with OIDC and keep the tokens in the OS keyring",
		Long: `Log in to a cluster's OIDC issuer. CLUSTER is a kubeconfig context written by
"kubectl securekapi use" (default: the current context); its OIDC settings are
read from the context's exec stanza, or given with --oidc-* flags.

The browser flow is authorization code with PKCE through a loopback callback.
The device flow (RFC 8628) prints a URL and a code to approve from any other
device: use it over SSH, in containers and CI. --grant auto picks the device
flow when no browser can be opened.

Single sign-on: one login serves every cluster with the same issuer, client
and scopes, but kubectl only gets a token for a cluster you approved for
that login. "login CLUSTER" typed on a terminal approves CLUSTER (its server
and pins are shown). "login" with no name asks first. Off a terminal (CI,
scripts) pass --approve; without it the login is kept but approves nothing.
"kubectl securekapi status" lists what is approved; "logout" forgets it.`,
		Example: `  # Log in to the current context's cluster with the browser
  kubectl securekapi login

  # Log in to cluster-a from an SSH session or a CI job
  kubectl securekapi login cluster-a --grant device-code

  # In a script: log in and approve cluster-a without a terminal
  kubectl securekapi login cluster-a --approve

  # Without a kubeconfig entry
  kubectl securekapi login --oidc-issuer-url https://dex.example.com --oidc-client-id kubectl`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeClusterName(g),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c, args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	o.Access.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.Approve, "approve", false, approveFlagHelp)
	return cmd
}

// Complete fills the OIDC settings from the kubeconfig context when the
// flags do not give them.
func (o *LoginOptions) Complete(c *cobra.Command, args []string) error {
	if len(args) == 1 {
		o.Name = args[0]
	}
	if err := completeAccessFromKubeconfig(o.GlobalOptions, c.Flags(), &o.Access, o.Name); err != nil {
		return err
	}
	o.Access.ResolveAuto(o.Getenv) // in a CI job, auto is the CI grant
	return nil
}

// Validate checks the settings.
func (o *LoginOptions) Validate() error { return o.Access.Validate() }

// Run logs in and reports who the user is.
func (o *LoginOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	m, err := o.Access.manager(o.GlobalOptions)
	if err != nil {
		return err
	}
	settings := o.Access.Settings()
	if err := m.StoreReady(settings); err != nil {
		return err
	}
	if err := o.approve(); err != nil {
		return err
	}
	if o.Access.MachineGrant() {
		return o.mintNow(ctx, m)
	}
	provider, err := m.Discover(ctx, settings)
	if err != nil {
		return err
	}
	tokens, err := m.Login(ctx, provider)
	if err != nil {
		return err
	}
	if _, err := m.Save(settings, tokens); err != nil {
		return err
	}
	c := tokens.Claims
	fmt.Fprintf(o.ErrOut, "Logged in to %s as %s\n  subject: %s\n  groups:  %s\n  expires: %s (%s)\n  tokens kept in: %s\n",
		settings.Issuer, orDash(c.Email), c.Subject, orDash(strings.Join(c.Groups, ", ")),
		c.Expiry.Local().Format(time.RFC3339), c.Expiry.Sub(o.Now()).Round(time.Second), m.Store.Location())
	if tokens.RefreshToken == "" {
		fmt.Fprintf(o.ErrOut, "warning: the issuer returned no refresh token, so you will have to log in again when this token expires; if it supports refresh, add --oidc-extra-scope offline_access (or the provider's equivalent) to the cluster's settings\n")
	}
	if c.Email == "" && len(c.Groups) == 0 {
		fmt.Fprintf(o.ErrOut, "note: the ID token carries no email and no groups; if the API server maps users by those claims, add --oidc-extra-scope email --oidc-extra-scope groups (or what the platform owner says)\n")
	}
	return nil
}

// approve asks to approve the cluster logged in for: "login NAME" typed on
// a terminal is that approval; "login" alone asks; off a terminal only
// --approve approves. A login given only --oidc-* flags names no cluster.
func (o *LoginOptions) approve() error {
	if o.Access.Server == "" && len(o.Access.Pins) == 0 {
		return nil
	}
	cand, err := candidateFromAccess(o.Access)
	if err != nil {
		return err
	}
	approved := o.Approve || (o.Name != "" && onTerminal(o.GlobalOptions))
	p, err := newApprovalPrompt(o.GlobalOptions, &o.Access, approved, "login")
	if err != nil {
		return err
	}
	_, err = p.Run([]approvalCandidate{cand})
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// interactiveLogin returns the login the flags choose: the browser flow or
// the device flow, bounded by --login-timeout and ended by SIGINT or
// SIGTERM. An interrupted login says so, never "timed out": the handler is
// installed even when the process started with SIGINT ignored (a
// background job, nohup), so Ctrl-C or kill -INT ends it at once instead
// of leaving it to run into the timeout.
func (a *AccessFlags) interactiveLogin(g *GlobalOptions) func(context.Context, *oidc.Provider) (*oidc.Tokens, error) {
	return func(parent context.Context, p *oidc.Provider) (*oidc.Tokens, error) {
		interruptible, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
		defer stop()
		ctx, cancel := context.WithTimeout(interruptible, a.LoginTimeout)
		defer cancel()
		tokens, err := a.runLoginFlow(ctx, g, p)
		if err != nil && interruptible.Err() != nil {
			return nil, fmt.Errorf("login interrupted (%v) before it finished; nothing was saved; run `%s` to try again", context.Cause(interruptible), a.LoginCommand())
		}
		return tokens, err
	}
}

// runLoginFlow runs the chosen flow until it ends or ctx does.
func (a *AccessFlags) runLoginFlow(ctx context.Context, g *GlobalOptions, p *oidc.Provider) (*oidc.Tokens, error) {
	grant := a.Grant
	if grant == "auto" {
		grant = "auth-code"
		if a.BrowserCmd == "" && !canOpenBrowser(g.Getenv) && p.HasDeviceFlow() {
			grant = "device-code"
			if g.Getenv("CI") != "" {
				fmt.Fprintf(g.ErrOut, "securekapi: this cluster has no CI grant (see `kubectl securekapi use --help`, --ci), so this CI job falls back to the device flow: a person must approve it\n")
			}
		}
	}
	deadline, _ := ctx.Deadline()
	stopProgress := func() {}
	defer func() { stopProgress() }()
	if grant == "device-code" {
		return p.DeviceLogin(ctx, func(d oidc.DeviceAuthorization) {
			showDeviceCode(g, d, deadline)
			if !d.ExpiresAt.IsZero() && d.ExpiresAt.Before(deadline) {
				deadline = d.ExpiresAt
			}
			stopProgress = showProgress(g, "waiting for approval", deadline)
		})
	}
	return p.BrowserLogin(ctx, oidc.BrowserOptions{
		Open: func(url string) error {
			err := openBrowser(g, a.BrowserCmd, url)
			stopProgress = showProgress(g, "waiting for the browser login", deadline)
			return err
		},
		BindAddress: a.BindAddresses,
	})
}

// showProgress keeps a countdown to deadline on one line of stderr while a
// person has to act, and returns the function that clears it. It shows
// nothing unless stderr is a terminal: logs and CI output stay clean, and
// stdout (which may carry an ExecCredential) is never touched.
func showProgress(g *GlobalOptions, what string, deadline time.Time) (stop func()) {
	if deadline.IsZero() || !isTerminal(g.ErrOut) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			left := time.Until(deadline).Round(time.Second)
			fmt.Fprintf(g.ErrOut, "\r  %s: %s left ", what, left)
			select {
			case <-done:
				fmt.Fprint(g.ErrOut, "\r\033[K")
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// showDeviceCode tells the user where to approve the login, on stderr, with
// a QR code when stderr is a terminal. Off a terminal (a CI log, a file) it
// is one plain line: the URL with the code, the code's expiry, and how long
// securekapi waits (--login-timeout) when that ends sooner.
func showDeviceCode(g *GlobalOptions, d oidc.DeviceAuthorization, wait time.Time) {
	if !isTerminal(g.ErrOut) {
		fmt.Fprintln(g.ErrOut, deviceCodeLine(d, wait))
		return
	}
	fmt.Fprintf(g.ErrOut, "To log in, open %s and enter the code: %s\n", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		fmt.Fprintf(g.ErrOut, "Or open: %s\n", d.VerificationURIComplete)
		if isTerminal(g.ErrOut) && g.Getenv("NO_QR") == "" {
			qrterminal.GenerateHalfBlock(d.VerificationURIComplete, qrterminal.L, g.ErrOut)
		}
	}
	if !d.ExpiresAt.IsZero() {
		fmt.Fprintf(g.ErrOut, "Waiting for approval (the code expires at %s)...\n", d.ExpiresAt.Local().Format(time.RFC3339))
	}
}

// deviceCodeLine is the device flow's one line for a log.
func deviceCodeLine(d oidc.DeviceAuthorization, wait time.Time) string {
	line := fmt.Sprintf("To log in, open %s and enter the code %s", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		line = fmt.Sprintf("To log in, open %s (code %s)", d.VerificationURIComplete, d.UserCode)
	}
	switch {
	case !d.ExpiresAt.IsZero() && (wait.IsZero() || !wait.Before(d.ExpiresAt)):
		line += "; the code expires at " + d.ExpiresAt.UTC().Format(time.RFC3339)
	case !d.ExpiresAt.IsZero():
		line += "; the code expires at " + d.ExpiresAt.UTC().Format(time.RFC3339) + ", but securekapi waits only until " + wait.UTC().Format(time.RFC3339) + " (--login-timeout)"
	case !wait.IsZero():
		line += "; securekapi waits until " + wait.UTC().Format(time.RFC3339) + " (--login-timeout)"
	}
	return strings.Map(func(r rune) rune { // the issuer's text, in a log: no control characters
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return -1
		}
		return r
	}, line)
}

// openBrowser runs the browser command with the URL and always prints the
// URL too, so a user whose browser does not come up can copy it.
func openBrowser(g *GlobalOptions, command, url string) error {
	fmt.Fprintf(g.ErrOut, "Opening the login page in your browser. If it does not open, visit:\n  %s\n", url)
	name, args := systemOpener()
	if command != "" {
		fields := strings.Fields(command)
		name, args = fields[0], fields[1:]
	}
	if name == "" {
		return nil // no opener: the printed URL is the way
	}
	cmd := exec.Command(name, append(args, url)...)
	// Never our stdout: it may carry an ExecCredential. The browser's
	// chatter goes to stderr only when that is a file the child can share:
	// any other writer would be written by exec's copying goroutine while
	// the login writes to it too.
	if f, ok := g.ErrOut.(*os.File); ok {
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		if command != "" {
			return fmt.Errorf("--browser-command %q: %w", command, err)
		}
		fmt.Fprintf(g.ErrOut, "Could not open a browser (%v); visit the URL above.\n", err)
		return nil
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

func systemOpener() (string, []string) {
	switch runtime.GOOS {
	case "darwin":
		return "open", nil
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if _, err := exec.LookPath("xdg-open"); err == nil {
			return "xdg-open", nil
		}
		if _, err := exec.LookPath("wslview"); err == nil {
			return "wslview", nil
		}
		return "", nil
	}
}

// canOpenBrowser guesses whether a browser can show up for this user: not
// over SSH or in CI without a display.
func canOpenBrowser(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return getenv("SSH_CONNECTION") == "" && getenv("CI") == ""
	}
	if getenv("CI") != "" {
		return false
	}
	if getenv("WSL_DISTRO_NAME") != "" {
		_, err := exec.LookPath("wslview")
		return err == nil
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	name, _ := systemOpener()
	return name != ""
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
