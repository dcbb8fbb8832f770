// Package authnconfig writes and checks kube-apiserver's structured
// authentication configuration (AuthenticationConfiguration, the file
// --authentication-config reads) for a cluster reached through a trusted
// secondary endpoint: the human OIDC issuer of the access profile, and zero
// or more CI issuers (GitHub Actions, GitLab, any OIDC issuer) whose tokens
// are bound to this cluster by audience and claim rules.
//
// It links kube-apiserver's own code for every judgement: the file is
// decoded with the API server's scheme (strict, converted, defaulted),
// validated by k8s.io/apiserver's ValidateAuthenticationConfiguration with
// the CEL environment of the target server's version, and sample tokens are
// judged by the API server's JWT authenticator itself with the signature
// check left out. So what this package accepts is what kube-apiserver
// accepts, and a rule that kube-apiserver would not compile fails here
// first. On top it refuses mappings kube-apiserver allows but a platform
// owner should not ship (see Policy). The exec credential path never links
// it: only the full CLI does.
package authnconfig

import (
	"fmt"
	"net/url"
	"strings"

	"k8s.io/utils/ptr"

	"github.com/securekapi/securekapi/pkg/credential/ci"

	api "k8s.io/apiserver/pkg/apis/apiserver"
)

// Provider names the kind of CI token service an issuer is: a provider of
// package ci (github, gitlab, oidc, ...), which holds its default issuer,
// its claims and the username its tokens map to.
type Provider string

// ci is the provider's entry in package ci's list, or nil.
func (p Provider) ci() *ci.Provider { return ci.ProviderOf(string(p)) }

// Settings is everything the configuration is built from.
type Settings struct {
	// Human is the people's IdP, the access profile's OIDC client; nil for
	// a configuration with CI issuers only.
	Human *HumanIssuer
	CI    []CIIssuer
}

// HumanIssuer is the profile's OIDC issuer as the API server trusts it.
type HumanIssuer struct {
	IssuerURL string
	// ClientID is the audience the ID tokens carry.
	ClientID string
	// CAData is the issuer's CA (PEM) when it is privately issued.
	CAData []byte
	// UsernameClaim defaults to email, GroupsClaim to groups ("-" maps no
	// groups).
	UsernameClaim, GroupsClaim string
	// UsernamePrefix and GroupsPrefix are put in front of the claim's value.
	// The username prefix may be empty for the email claim only (see Policy).
	UsernamePrefix, GroupsPrefix string
}

// CIIssuer is one CI token service the API server trusts for this cluster.
type CIIssuer struct {
	Provider Provider
	// IssuerURL defaults to the provider's own (GitHub's); GitLab's is the
	// instance URL.
	IssuerURL string
	// Audience binds the tokens to this cluster: the trusted endpoint's URL
	// or a name the owner picks. Required.
	Audience string
	// Rules are CEL claim validation rules, all of which must hold, e.g.
	// claims.repository == "org/app" && claims.ref == "refs/heads/main".
	Rules []string
	// Username is a CEL expression; default per provider, e.g. GitHub's
	// "ci:github:" + claims.repository + ":" + claims.ref.
	Username string
	// Groups are static groups every token of this issuer maps to, besides
	// "ci:<provider>".
	Groups []string
	// CAData is the issuer's CA (PEM) when it is privately issued.
	CAData []byte
}

// Defaults fill in what the settings leave out.
func (s Settings) withDefaults() Settings {
	if s.Human != nil {
		h := *s.Human
		if h.UsernameClaim == "" {
			h.UsernameClaim = "email"
		}
		if h.GroupsClaim == "" {
			h.GroupsClaim = "groups"
		}
		s.Human = &h
	}
	ci := make([]CIIssuer, len(s.CI))
	for i, c := range s.CI {
		if p := c.Provider.ci(); c.IssuerURL == "" && p != nil {
			c.IssuerURL = p.Issuer
		}
		if c.Username == "" {
			c.Username = defaultCIUsername(c)
		}
		ci[i] = c
	}
	s.CI = ci
	return s
}

// defaultCIUsername names a pipeline the way RBAC subjects read best:
// provider, project, and the branch or tag it runs for.
func defaultCIUsername(c CIIssuer) string {
	if p := c.Provider.ci(); p != nil && p.Username != "" {
		return fmt.Sprintf("%q + ", "ci:"+p.Name+":") + p.Username
	}
	return fmt.Sprintf("%q + claims.sub", "ci:"+hostOf(c.IssuerURL)+":")
}

// ProviderGroup is the group every token of a provider maps to.
func ProviderGroup(p Provider) string { return "ci:" + string(p) }

func hostOf(issuer string) string {
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return issuer
}

// Build makes the configuration, in kube-apiserver's internal form, from
// settings. Check it before use: Build only assembles.
func Build(s Settings) *api.AuthenticationConfiguration {
	s = s.withDefaults()
	cfg := &api.AuthenticationConfiguration{}
	if h := s.Human; h != nil {
		a := api.JWTAuthenticator{
			Issuer: api.Issuer{URL: h.IssuerURL, Audiences: []string{h.ClientID}, CertificateAuthority: string(h.CAData)},
			ClaimMappings: api.ClaimMappings{
				Username: api.PrefixedClaimOrExpression{Claim: h.UsernameClaim, Prefix: ptr.To(h.UsernamePrefix)},
			},
			UserValidationRules: reservedNameRules(),
		}
		if h.GroupsClaim != "-" {
			a.ClaimMappings.Groups = api.PrefixedClaimOrExpression{Claim: h.GroupsClaim, Prefix: ptr.To(h.GroupsPrefix)}
		}
		cfg.JWT = append(cfg.JWT, a)
	}
	for _, c := range s.CI {
		a := api.JWTAuthenticator{
			Issuer: api.Issuer{URL: c.IssuerURL, CertificateAuthority: string(c.CAData)},
			ClaimMappings: api.ClaimMappings{
				Username: api.PrefixedClaimOrExpression{Expression: c.Username},
				Groups:   api.PrefixedClaimOrExpression{Expression: celStringList(append([]string{ProviderGroup(c.Provider)}, c.Groups...))},
			},
			UserValidationRules: reservedNameRules(),
		}
		if c.Audience != "" {
			a.Issuer.Audiences = []string{c.Audience}
		}
		for _, r := range c.Rules {
			a.ClaimValidationRules = append(a.ClaimValidationRules, api.ClaimValidationRule{
				Expression: r, Message: "the token's claims do not satisfy: " + r,
			})
		}
		cfg.JWT = append(cfg.JWT, a)
	}
	return cfg
}

// reservedNameRules make the API server itself refuse any mapped identity
// in the system: namespace, whatever a claim holds: defence in depth
// beside Policy's prefix checks.
func reservedNameRules() []api.UserValidationRule {
	return []api.UserValidationRule{
		{Expression: `!user.username.startsWith("system:")`, Message: `username must not start with "system:", which Kubernetes reserves`},
		{Expression: `user.groups.all(g, !g.startsWith("system:"))`, Message: `groups must not start with "system:", which Kubernetes reserves`},
	}
}

func celStringList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
