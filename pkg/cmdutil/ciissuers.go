package cmdutil

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/profile"
)

// CIIssuerFlags collects CI issuers from the command line: each --ci starts
// one, and the --ci-* flags after it apply to it, so several issuers can be
// given in one command:
//
//	--ci github --ci-rule 'claims.repository == "org/app"' --ci gitlab=https://gitlab.example.com --ci-audience cluster-a
type CIIssuerFlags struct {
	// Issuers are the --ci issuers in command-line order.
	Issuers []authnconfig.CIIssuer
	// CAFiles[i] is Issuers[i]'s --ci-ca-file, for the command to read.
	CAFiles []string
}

// BindProfile binds what an access profile records: issuer and audience.
func (f *CIIssuerFlags) BindProfile(fs *pflag.FlagSet) {
	fs.Var(ciStart{f}, "ci", "A CI token issuer the API server trusts: "+providerForms()+"; repeatable, the --ci-* flags after it apply to it")
	fs.Var(ciField{f, "ci-audience", func(c *authnconfig.CIIssuer, v string) { c.Audience = v }}, "ci-audience", "Audience the --ci issuer's tokens must carry (default: the trusted endpoint's URL)")
}

// BindAll adds what only the API server's configuration needs.
func (f *CIIssuerFlags) BindAll(fs *pflag.FlagSet) {
	f.BindProfile(fs)
	fs.Var(ciField{f, "ci-rule", func(c *authnconfig.CIIssuer, v string) { c.Rules = append(c.Rules, v) }}, "ci-rule", `CEL rule the --ci issuer's tokens must satisfy, e.g. 'claims.repository == "org/app" && claims.ref == "refs/heads/main"'; repeatable`)
	fs.Var(ciField{f, "ci-username", func(c *authnconfig.CIIssuer, v string) { c.Username = v }}, "ci-username", `CEL expression for the --ci issuer's username (default for github: "ci:github:" + claims.repository + ":" + claims.ref)`)
	fs.Var(ciField{f, "ci-group", func(c *authnconfig.CIIssuer, v string) { c.Groups = append(c.Groups, v) }}, "ci-group", `Group the --ci issuer's tokens map to, besides ci:PROVIDER; repeatable`)
	fs.Var(ciField{f, "ci-ca-file", func(c *authnconfig.CIIssuer, v string) { f.CAFiles[len(f.Issuers)-1] = v }}, "ci-ca-file", "PEM CA of a privately issued --ci issuer")
}

// ProfileEntries are the issuers as an access profile records them, with
// the endpoint as the default audience.
func (f *CIIssuerFlags) ProfileEntries(endpoint string) []profile.CIIssuer {
	var out []profile.CIIssuer
	for _, c := range f.WithAudience(endpoint) {
		out = append(out, profile.CIIssuer{Provider: string(c.Provider), IssuerURL: c.IssuerURL, Audience: c.Audience})
	}
	return out
}

// WithAudience gives every issuer without --ci-audience the default one.
func (f *CIIssuerFlags) WithAudience(audience string) []authnconfig.CIIssuer {
	out := make([]authnconfig.CIIssuer, len(f.Issuers))
	for i, c := range f.Issuers {
		if c.Audience == "" {
			c.Audience = audience
		}
		out[i] = c
	}
	return out
}

// parseCIIssuer reads a --ci value: a provider of package ci, and the
// issuer URL after = (a provider with one issuer, GitHub's, knows it;
// GitLab's is the instance URL).
func parseCIIssuer(v string) (authnconfig.CIIssuer, error) {
	name, issuer, _ := strings.Cut(v, "=")
	c := authnconfig.CIIssuer{Provider: authnconfig.Provider(name), IssuerURL: issuer}
	p := ci.ProviderOf(name)
	switch {
	case p == nil:
		return c, fmt.Errorf("--ci %q: the provider is %s", v, providerForms())
	case c.IssuerURL == "" && p.Issuer == "":
		return c, fmt.Errorf("--ci %s needs the issuer URL: --ci %s=https://ISSUER", name, name)
	case c.IssuerURL == "":
		c.IssuerURL = p.Issuer
	}
	if err := profile.CheckIssuerURL(c.IssuerURL); err != nil {
		return c, fmt.Errorf("--ci %s: %w", v, err)
	}
	return c, nil
}

// providerForms are the forms --ci takes, for messages: "github,
// gitlab=https://ISSUER or oidc=https://ISSUER".
func providerForms() string {
	var forms []string
	for _, p := range ci.Providers() {
		if p.Issuer != "" {
			forms = append(forms, p.Name)
		} else {
			forms = append(forms, p.Name+"=https://ISSUER")
		}
	}
	return strings.Join(forms[:len(forms)-1], ", ") + " or " + forms[len(forms)-1]
}

// ciStart is the --ci flag.
type ciStart struct{ f *CIIssuerFlags }

func (s ciStart) Set(v string) error {
	c, err := parseCIIssuer(v)
	if err != nil {
		return err
	}
	s.f.Issuers = append(s.f.Issuers, c)
	s.f.CAFiles = append(s.f.CAFiles, "")
	return nil
}
func (s ciStart) String() string { return "" }
func (s ciStart) Type() string   { return "provider[=issuer]" }

// ciField is a --ci-* flag, applied to the latest --ci.
type ciField struct {
	f    *CIIssuerFlags
	name string
	set  func(*authnconfig.CIIssuer, string)
}

func (c ciField) Set(v string) error {
	if len(c.f.Issuers) == 0 {
		return fmt.Errorf("--%s applies to the --ci before it: pass --ci github (or gitlab=URL, oidc=URL) first", c.name)
	}
	c.set(&c.f.Issuers[len(c.f.Issuers)-1], v)
	return nil
}
func (c ciField) String() string { return "" }
func (c ciField) Type() string   { return "string" }

// ProfileCIIssuer is the cluster's recorded CI issuer for a --ci source:
// the profile's github or gitlab entry, or for a file or variable its only
// generic (oidc) one; the zero value when the profile records none.
func ProfileCIIssuer(c *profile.Cluster, source string) profile.CIIssuer {
	sys, ok := ci.Lookup(source)
	if !ok {
		return profile.CIIssuer{}
	}
	provider := sys.Provider().Name
	var found []profile.CIIssuer
	for _, ci := range c.CI {
		if ci.Provider == provider {
			found = append(found, ci)
		}
	}
	if len(found) != 1 {
		return profile.CIIssuer{}
	}
	return found[0]
}
