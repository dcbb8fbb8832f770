package use

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/loginui"
	"github.com/securekapi/securekapi/pkg/profile"
)

// useCIFlags set a cluster up for a CI job: `use NAME --ci github` writes
// an exec stanza that needs no person and names its grant and source.
type useCIFlags struct {
	// Source is --ci: a CI system of package ci.
	Source string
	// Grant is --ci-grant: ci-token (default with --ci), token-exchange or
	// client-credentials.
	Grant string
	// IssuerURL and ClientID are the issuer and client the grant talks to
	// when they are not the cluster's (ci-token: the CI's issuer, and the
	// audience as the client; client-credentials: the confidential client).
	IssuerURL string
	ClientID  string
	// IssuerCAFile trusts a privately issued --ci-issuer-url.
	IssuerCAFile string
	grant.Machine
}

func (f *useCIFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Source, "ci", "", "Set the cluster up for a CI job, with the CI's own OIDC token from: "+ci.SourceList()+" (no person, no browser)")
	fs.StringVar(&f.Grant, "ci-grant", "", "The CI grant: ci-token (the API server trusts the CI issuer; default with --ci), token-exchange (at the cluster's issuer), client-credentials, or auto (token exchange when the CI's variables are present, a person's login elsewhere: one kubeconfig for both)")
	fs.StringVar(&f.IssuerURL, "ci-issuer-url", "", "ci-token: the CI's issuer (default for github: "+ci.GitHubProvider.Issuer+"); client-credentials: the issuer (default: the cluster's)")
	fs.StringVar(&f.IssuerCAFile, "ci-issuer-ca-file", "", "client-credentials: PEM CA bundle for a privately issued --ci-issuer-url")
	fs.StringVar(&f.ClientID, "ci-client-id", "", "client-credentials: the confidential client's ID")
	access.AddMachineFlags(fs, &f.Machine) // the stanza's own machine flags, but for --ci-token-source: --ci above
}

// enabled reports whether `use` writes a CI stanza.
func (f *useCIFlags) enabled() bool { return f.Source != "" || f.Grant != "" }

// grantName is the CI grant to write.
func (f *useCIFlags) grantName() string {
	if f.Grant != "" {
		return f.Grant
	}
	return grant.CIToken
}

// grant is the CI grant to write: a grant that needs no person, or auto.
func (f *useCIFlags) grant() (grant.Grant, error) {
	g, ok := grant.Lookup(f.grantName())
	if !ok || (g.Person() && g.Name() != grant.Auto) {
		return nil, fmt.Errorf("--ci-grant %q: use %s or %s", f.Grant, strings.Join(grant.Names(false), ", "), grant.Auto)
	}
	return g, nil
}

// clientKind is which client the grant asks as (the cluster's, for an
// unknown grant, which validate refuses first).
func (f *useCIFlags) clientKind() grant.Client {
	if g, err := f.grant(); err == nil {
		return g.Client()
	}
	return grant.ClusterClient
}

// validate checks the combination before anything is verified or written;
// the stanza's own rules are access.Flags.Validate's, run on what would be
// written (see stanza).
func (f *useCIFlags) validate() error {
	if !f.enabled() {
		return nil
	}
	g, err := f.grant()
	if err != nil {
		return err
	}
	switch {
	case g.UsesCIToken() || g.Name() == grant.Auto:
		if f.Source == "" {
			return fmt.Errorf("--ci-grant %s needs --ci SOURCE: %s", g.Name(), ci.SourceList())
		}
	case g.Client() == grant.OwnClient:
		if f.Source != "" {
			return fmt.Errorf("--ci %s: %s uses no CI token; drop --ci, or use --ci-grant token-exchange", f.Source, g.Name())
		}
		if f.ClientID == "" {
			return fmt.Errorf("--ci-grant %s needs --ci-client-id: the confidential client's ID", g.Name())
		}
	}
	return nil
}

// checkIssuer refuses a ci-token stanza whose CI issuer neither the flags
// nor the cluster's profile name: only a provider with one issuer
// (GitHub's) is known in advance.
func (f *useCIFlags) checkIssuer(c *profile.Cluster) error {
	if f.clientKind() != grant.CIIssuerClient {
		return nil
	}
	if issuer, _ := f.client(c); issuer == "" {
		return fmt.Errorf("--ci %s: the profile of %s records no %s issuer, so pass --ci-issuer-url: the issuer of the CI's tokens, which the API server trusts (for GitLab, the instance URL)", f.Source, c.Name, f.Source)
	}
	return nil
}

// client is the issuer and client ID the stanza names for the grant.
func (f *useCIFlags) client(c *profile.Cluster) (issuer, clientID string) {
	switch f.clientKind() {
	case grant.CIIssuerClient:
		// The profile's CI issuer (what the API server's authentication
		// configuration trusts) fills in what the flags leave out, then
		// the provider's one issuer, if it has one.
		recorded := cmdutil.ProfileCIIssuer(c, f.Source)
		issuer = cmp.Or(f.IssuerURL, recorded.IssuerURL)
		if sys, ok := ci.Lookup(f.Source); ok {
			issuer = cmp.Or(issuer, sys.Provider().Issuer)
		}
		aud := cmp.Or(f.Audience, recorded.Audience, c.Server)
		return issuer, aud // the token's audience is the client it is for
	case grant.OwnClient:
		issuer = f.IssuerURL
		if issuer == "" {
			issuer = c.OIDC.IssuerURL
		}
		return issuer, f.ClientID
	}
	return c.OIDC.IssuerURL, c.OIDC.ClientID
}

// caFile is the --oidc-ca-file the stanza names: the cluster's for its own
// issuer, --ci-issuer-ca-file for another; the ci-token grant talks to no
// issuer.
func (f *useCIFlags) caFile(c *profile.Cluster) string {
	switch {
	case f.clientKind() == grant.CIIssuerClient:
		return ""
	case f.usesClusterIssuer(c):
		return c.OIDC.CAFile
	}
	return f.IssuerCAFile
}

// usesClusterIssuer reports whether the grant talks to the cluster's own
// issuer, so its --oidc-ca-file applies.
func (f *useCIFlags) usesClusterIssuer(c *profile.Cluster) bool {
	issuer, _ := f.client(c)
	return f.clientKind() != grant.CIIssuerClient && issuer == c.OIDC.IssuerURL
}

// machine is the grant's own settings, for the exec stanza.
func (f *useCIFlags) machine() grant.Machine {
	m := f.Machine
	m.CISource = f.Source
	if f.clientKind() == grant.CIIssuerClient {
		m.Audience = "" // it is the client ID written for this grant
	}
	return m
}

// checkStanza runs the credential path's own validation on the stanza
// about to be written, so a stanza kubectl would fail on is never written.
func checkStanza(exec *clientcmdapi.ExecConfig) error {
	var a cmdutil.AccessFlags
	if _, err := a.ParseExecArgs(exec.Args[1:]); err != nil {
		return err
	}
	return a.Validate()
}

// approveStanza asks to approve the cluster for the login the stanza's
// args name (for a CI grant, its own key), exactly as the credential path
// will look it up.
func (o *UseOptions) approveStanza(exec *clientcmdapi.ExecConfig) error {
	var a cmdutil.AccessFlags
	if _, err := a.ParseExecArgs(exec.Args[1:]); err != nil {
		return err
	}
	cand, err := cmdutil.CandidateFromAccess(a)
	if err != nil {
		return err
	}
	cands := []loginui.Candidate{cand}
	if a.Grant == grant.Auto {
		// auto is a person's login here and token exchange in a CI job:
		// the cluster receives either, so both are approved at once.
		exchange := a
		exchange.Grant = grant.TokenExchange
		if cand, err = cmdutil.CandidateFromAccess(exchange); err != nil {
			return err
		}
		cands = append(cands, cand)
	}
	p, err := o.Approver().Prompt(&a, o.Approve, "use")
	if err != nil {
		return err
	}
	_, err = p.Run(cands)
	return err
}
