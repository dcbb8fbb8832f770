package add

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/oidc"
)

// identityScopes are the scopes that put the claims API servers map users
// and groups from (--oidc-username-claim=email, --oidc-groups-claim=groups)
// into the ID token. Without them many issuers send neither, and every
// request ends in Unauthorized.
var identityScopes = []string{"email", "groups"}

// chooseScopes fills in the extra scopes when the user gave none: the
// identity scopes the issuer offers, said on stderr so the choice is seen
// and can be overridden with --oidc-extra-scope.
func (o *AddOptions) chooseScopes(ctx context.Context) {
	if len(o.Cluster.OIDC.ExtraScopes) > 0 {
		return
	}
	s := oidc.Settings{Issuer: o.Cluster.OIDC.IssuerURL, ClientID: o.Cluster.OIDC.ClientID, CAFile: o.Cluster.OIDC.CAFile}
	p, err := o.Issuer(ctx, s)
	if err != nil {
		fmt.Fprintf(o.ErrOut, "warning: could not read the scopes the issuer offers (%v); requesting openid only. If the API server maps users by email or groups, pass --oidc-extra-scope email --oidc-extra-scope groups\n", err)
		return
	}
	offered := p.ScopesSupported()
	if len(offered) == 0 {
		fmt.Fprintf(o.ErrOut, "The issuer does not list the scopes it offers; requesting openid only. If the API server maps users by email or groups, pass --oidc-extra-scope email --oidc-extra-scope groups\n")
		return
	}
	var chosen []string
	for _, want := range identityScopes {
		if slices.Contains(offered, want) {
			chosen = append(chosen, want)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(o.ErrOut, "The issuer offers neither email nor groups scopes (it lists %s); requesting openid only.\n", strings.Join(offered, ", "))
		return
	}
	o.Cluster.OIDC.ExtraScopes = chosen
	fmt.Fprintf(o.ErrOut, "No --oidc-extra-scope given: requesting %s, which the issuer offers, so the ID token carries the claims API servers map users and groups from. Pass --oidc-extra-scope to choose others.\n", strings.Join(chosen, " and "))
}
