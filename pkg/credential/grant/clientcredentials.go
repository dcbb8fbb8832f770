package grant

import (
	"context"
	"fmt"
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/ci"
)

// ClientCredentials is a confidential client's own token (RFC 6749
// section 4.4): no person and no CI token, only the client's secret, read
// from a file or a named variable, never from args.
const ClientCredentials = "client-credentials"

// ClientSecretDomain is the domain a client secret's fingerprint is
// hashed in.
const ClientSecretDomain = "securekapi-client-secret/v1"

type clientCredentials struct{}

func (clientCredentials) Name() string                      { return ClientCredentials }
func (clientCredentials) Help() string                      { return "a confidential client's own token" }
func (clientCredentials) Person() bool                      { return false }
func (clientCredentials) Client() Client                    { return OwnClient }
func (clientCredentials) UsesCIToken() bool                 { return false }
func (clientCredentials) KeyParts(*Request) []string        { return nil }
func (clientCredentials) SubjectAudience(r *Request) string { return r.TokenAudience() }

func (clientCredentials) Validate(r *Request) error {
	if (r.ClientSecretFile == "") == (r.ClientSecretEnv == "") {
		return fmt.Errorf("--grant client-credentials needs the client secret from exactly one of --client-secret-file PATH or --client-secret-env VARIABLE (the secret is never an argument)")
	}
	if r.CISource != "" {
		return fmt.Errorf("--ci-token-source %s: client credentials use no CI token; drop it, or use --grant token-exchange", r.CISource)
	}
	return nil
}

// Material is the client secret: a rotated secret mints anew.
func (clientCredentials) Material(r *Request, env ci.Env) (string, string) {
	secret, _, _ := r.ReadClientSecret(env)
	return ClientSecretDomain, secret
}

func (clientCredentials) Approve(r *Request) string {
	return "--ci-grant " + ClientCredentials + " --ci-client-id " + r.ClientID
}

func (clientCredentials) Obtain(ctx context.Context, r *Request, d Deps) (*Issued, error) {
	secret, err := d.ClientSecret()
	if err != nil {
		return nil, err
	}
	return d.ClientCredentials(ctx, secret, r.TokenAudience())
}

// ReadClientSecret reads a confidential client's secret from where the
// settings name it (--client-secret-env, else --client-secret-file), and
// says where that is for messages. A trailing newline (as `echo` and most
// secret mounts leave) is not part of it; an empty secret is an error.
func (m *Machine) ReadClientSecret(env ci.Env) (secret, where string, err error) {
	if m.ClientSecretEnv != "" {
		where = "$" + m.ClientSecretEnv
		secret = env.Getenv(m.ClientSecretEnv)
	} else {
		where = m.ClientSecretFile
		b, err := readFile(env)(m.ClientSecretFile)
		if err != nil {
			return "", where, fmt.Errorf("read the client secret: %w; fix --client-secret-file", err)
		}
		secret = string(b)
	}
	secret = strings.TrimRight(secret, "\r\n")
	if secret == "" {
		return "", where, fmt.Errorf("the client secret in %s is empty; put the client's secret there (--client-secret-file or --client-secret-env)", where)
	}
	return secret, where, nil
}
