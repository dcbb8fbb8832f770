package grant

import (
	"context"
	"net/url"
)

// TokenExchange trades the CI job's token for the cluster's issuer's ID
// token (RFC 8693): the issuer trusts the CI issuer, and the API server
// trusts only the cluster's issuer.
const TokenExchange = "token-exchange"

// The grant and token types of RFC 8693.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
)

type tokenExchange struct{ withCIToken }

func (tokenExchange) Name() string { return TokenExchange }
func (tokenExchange) Help() string { return "the CI token traded at the cluster's issuer" }

// KeyParts add Dex's connector, which names the trusted CI issuer.
func (tokenExchange) KeyParts(r *Request) []string {
	return append(withCIToken{}.KeyParts(r), "connector="+r.ExchangeConnectorID)
}

// Validate: a confidential client may add its secret, so none is refused.
func (tokenExchange) Validate(r *Request) error { return ValidateCISource(r) }

func (tokenExchange) Approve(r *Request) string { return approveCI(r, " --ci-grant "+TokenExchange) }

// Obtain asks for requested_token_type id_token; Dex answers with the ID
// token in access_token and issued_token_type saying so (section 2.2.1).
func (tokenExchange) Obtain(ctx context.Context, r *Request, d Deps) (*Issued, error) {
	subject, secret, err := ciTokenAndSecret(ctx, r, d)
	if err != nil {
		return nil, err
	}
	params := url.Values{
		"grant_type":           {GrantTypeTokenExchange},
		"subject_token":        {subject.Raw},
		"subject_token_type":   {TokenTypeIDToken},
		"requested_token_type": {TokenTypeIDToken},
		"audience":             {r.TokenAudience()},
	}
	hint := " (Dex needs --token-exchange-connector-id)"
	if r.ExchangeConnectorID != "" {
		params.Set("connector_id", r.ExchangeConnectorID)
		hint = " through connector " + r.ExchangeConnectorID
	}
	return d.TokenRequest(ctx, TokenRequest{What: "token exchange", Params: params, ClientSecret: secret, Audience: r.TokenAudience(),
		Secrets: []string{subject.Raw, secret},
		Hint:    "is the CI token current, does the issuer trust its issuer" + hint + ", and may the client use the token-exchange grant?"})
}
