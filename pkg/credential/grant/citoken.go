package grant

import (
	"context"
	"fmt"
)

// CIToken hands the cluster the CI job's own token: the API server trusts
// the CI issuer itself, so the issuer and audience the exec args name are
// the token's.
const CIToken = "ci-token"

type ciToken struct{ withCIToken }

func (ciToken) Name() string   { return CIToken }
func (ciToken) Help() string   { return "the API server trusts the CI issuer; default with use --ci" }
func (ciToken) Client() Client { return CIIssuerClient }

// SubjectAudience: the token goes to the cluster as it is.
func (ciToken) SubjectAudience(r *Request) string { return r.TokenAudience() }

func (ciToken) Validate(r *Request) error {
	if err := ValidateCISource(r); err != nil {
		return err
	}
	return noSecret(r, "--grant token-exchange")
}

func (ciToken) Approve(r *Request) string { return approveCI(r, "") }

func (ciToken) Obtain(ctx context.Context, r *Request, d Deps) (*Issued, error) {
	t, err := d.CIToken(ctx)
	if err != nil {
		return nil, err
	}
	if t.Claims.Issuer != r.Issuer {
		return nil, fmt.Errorf("the CI token was issued by %s, but the cluster's --oidc-issuer-url is %s: with --grant ci-token the API server must trust the CI issuer itself; fix --oidc-issuer-url, or use --grant token-exchange at the cluster's issuer", t.Claims.Issuer, r.Issuer)
	}
	return t, nil
}
