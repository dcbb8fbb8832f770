// Package authnconfig holds the platform owner's settings for
// kube-apiserver's structured authentication configuration
// (AuthenticationConfiguration, the file --authentication-config reads) for
// a cluster reached through a trusted secondary endpoint: the human OIDC
// issuer of the access profile, and zero or more CI issuers (GitHub
// Actions, GitLab, any OIDC issuer) whose tokens are bound to this cluster
// by audience and claim rules; and the file versions a server reads.
//
// It links no kube-apiserver code, so the everyday CLI can take these
// settings as flags (pkg/cmdutil's --ci flags, `expose authn-config`'s help
// and checks). Building, checking and judging the file with kube-apiserver's
// own code is pkg/authnconfig/kubeapiserver's job, which only the platform
// owner's program, securekapi-admin, links: k8s.io/apiserver brings grpc,
// OpenTelemetry and Prometheus, whose package init every command would pay.
package authnconfig

import (
	"fmt"
	"net/url"

	"github.com/securekapi/securekapi/pkg/credential/ci"
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

// WithDefaults fills in what the settings leave out.
func (s Settings) WithDefaults() Settings {
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
