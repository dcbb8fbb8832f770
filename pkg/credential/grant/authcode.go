package grant

import "context"

// AuthCode is the browser login: the authorization code flow with PKCE
// (RFC 7636), its callback on a loopback address.
const AuthCode = "auth-code"

type authCode struct{ person }

func (authCode) Name() string              { return AuthCode }
func (authCode) Help() string              { return "a browser login with PKCE" }
func (authCode) Validate(r *Request) error { return validatePerson(r) }
func (authCode) Obtain(context.Context, *Request, Deps) (*Issued, error) {
	return nil, errNoPerson(authCode{})
}
