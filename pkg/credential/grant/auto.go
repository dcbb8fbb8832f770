package grant

import (
	"context"

	"github.com/securekapi/securekapi/pkg/credential/ci"
)

// Auto is --grant auto: a person's login, the browser where one can open
// and the device flow elsewhere; in a CI job whose stanza names a CI token
// source, token exchange (ResolveAuto).
const Auto = "auto"

type auto struct{ person }

func (auto) Name() string { return Auto }
func (auto) Help() string {
	return "token exchange when the CI's variables are present, a person's login elsewhere: one kubeconfig for both"
}

func (auto) Validate(r *Request) error {
	if r.CISource != "" { // what auto would use in a CI job
		if err := ValidateCISource(r); err != nil {
			return err
		}
	}
	return validatePerson(r)
}

func (auto) Obtain(context.Context, *Request, Deps) (*Issued, error) { return nil, errNoPerson(auto{}) }

// ResolveAuto is the grant auto stands for here: when the stanza names a
// CI token source and that source is present (GitHub's request variables,
// the GitLab or env variable, the token file), the job gets its token by
// exchanging the CI token at the cluster's issuer, with no person; elsewhere
// (a person's laptop with the same kubeconfig) auto stays a person's login.
// The CI token used directly cannot share a stanza with a person's login
// (its issuer is the CI's), so auto never picks it.
func ResolveAuto(r *Request, env ci.Env) string {
	if sys, ok := ci.Lookup(r.CISource); ok && sys.Present(r.CISettings(), env) {
		return TokenExchange
	}
	return Auto
}
