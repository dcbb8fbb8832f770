package grant

import (
	"context"
	"net/url"
)

// JWTBearer presents the CI job's token as an authorization grant at the
// cluster's issuer (RFC 7523 section 2.1): the issuer trusts the CI
// issuer's keys for that client, and answers with its own token for the
// cluster. Issuers that speak it (Hydra, Keycloak, Okta) but not RFC 8693
// take it where token-exchange fails. By default the CI token is asked
// for the issuer as its audience (section 3: the aud identifies the
// authorization server); --ci-token-audience names the token endpoint
// instead where the issuer wants that.
const JWTBearer = "jwt-bearer"

// GrantTypeJWTBearer is RFC 7523's grant_type.
const GrantTypeJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

type jwtBearer struct{ withCIToken }

func (jwtBearer) Name() string { return JWTBearer }
func (jwtBearer) Help() string {
	return "the CI token as an RFC 7523 assertion at the cluster's issuer"
}

// Validate: a confidential client may add its secret, so none is refused.
func (jwtBearer) Validate(r *Request) error { return ValidateCISource(r) }

func (jwtBearer) Approve(r *Request) string { return approveCI(r, " --ci-grant "+JWTBearer) }

func (jwtBearer) Obtain(ctx context.Context, r *Request, d Deps) (*Issued, error) {
	assertion, secret, err := ciTokenAndSecret(ctx, r, d)
	if err != nil {
		return nil, err
	}
	params := url.Values{
		"grant_type": {GrantTypeJWTBearer},
		"assertion":  {assertion.Raw},
		"audience":   {r.TokenAudience()},
	}
	return d.TokenRequest(ctx, TokenRequest{What: "the JWT-bearer grant", Params: params, ClientSecret: secret, Audience: r.TokenAudience(),
		Secrets: []string{assertion.Raw, secret},
		Hint:    "is the CI token current and for " + r.SubjectAudience() + ", does the issuer trust the CI issuer's keys for this client, and may the client use the jwt-bearer grant?"})
}
