package kubeapiserver

import (
	"fmt"
	"strings"

	"k8s.io/utils/ptr"

	api "k8s.io/apiserver/pkg/apis/apiserver"

	"github.com/securekapi/securekapi/pkg/authnconfig"
)

// Build makes the configuration, in kube-apiserver's internal form, from
// settings. Check it before use: Build only assembles.
func Build(s authnconfig.Settings) *api.AuthenticationConfiguration {
	s = s.WithDefaults()
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
				Groups:   api.PrefixedClaimOrExpression{Expression: celStringList(append([]string{authnconfig.ProviderGroup(c.Provider)}, c.Groups...))},
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
