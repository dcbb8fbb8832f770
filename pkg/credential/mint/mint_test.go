package mint

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/redact"
)

func flags(t *testing.T, args ...string) *access.Flags {
	t.Helper()
	var a access.Flags
	if _, err := a.ParseExecArgs(args); err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	return &a
}

// TestCITokenMustComeFromTheClustersIssuer: with --grant ci-token the API
// server trusts the CI issuer itself; a token from another issuer is
// refused here, naming the setting, not sent to fail at the API server.
func TestCITokenMustComeFromTheClustersIssuer(t *testing.T) {
	tok := testjwt.Unsigned(map[string]any{"iss": "https://gitlab.example.com", "aud": "kube", "exp": time.Now().Add(5 * time.Minute).Unix()})
	env := map[string]string{"T": tok}
	secrets := &redact.Secrets{}
	for issuer, wantErr := range map[string]bool{"https://gitlab.example.com": false, "https://token.actions.githubusercontent.com": true} {
		m := &Minter{Flags: flags(t, "--oidc-issuer-url", issuer, "--oidc-client-id", "kube", "--grant", "ci-token", "--ci-token-source", "env", "--ci-token-var", "T"),
			Getenv: func(k string) string { return env[k] }, Secrets: secrets}
		got, err := m.Mint(context.Background())
		switch {
		case wantErr && (err == nil || !strings.Contains(err.Error(), "--oidc-issuer-url")):
			t.Errorf("issuer %s: err = %v", issuer, err)
		case !wantErr && (err != nil || got.IDToken != tok):
			t.Errorf("issuer %s: %v", issuer, err)
		}
	}
	if secrets.Redact("x"+tok+"x") != "x"+redact.Redacted+"x" {
		t.Error("the CI token was not remembered for redaction")
	}
}

// TestClientSecretIsReadFromWhereTheFlagsSay: a file's trailing newline is
// not part of the secret; an empty one is an error naming where; the
// secret is remembered for redaction and reaches no error.
func TestClientSecretIsReadFromWhereTheFlagsSay(t *testing.T) {
	secrets := &redact.Secrets{}
	m := &Minter{Flags: flags(t, "--oidc-issuer-url", "https://hydra", "--oidc-client-id", "c", "--grant", "client-credentials", "--client-secret-file", "/run/secret"),
		Getenv: func(string) string { return "" }, Secrets: secrets,
		ReadFile: func(string) ([]byte, error) { return []byte("s3cret-value\n"), nil }}
	var got string
	m.Discover = func(context.Context, oidc.Settings) (oidc.Issuer, error) {
		got, _ = m.secret()
		return nil, errors.New("issuer down")
	}
	if _, err := m.Mint(context.Background()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
	if got != "s3cret-value" || secrets.Redact("s3cret-value") != redact.Redacted {
		t.Errorf("secret %q, remembered: %v", got, secrets.Redact("s3cret-value") == redact.Redacted)
	}
	m.Flags = flags(t, "--oidc-issuer-url", "https://hydra", "--oidc-client-id", "c", "--grant", "client-credentials", "--client-secret-env", "KAPI_SECRET")
	if _, err := m.Mint(context.Background()); err == nil || !strings.Contains(err.Error(), "$KAPI_SECRET is empty") {
		t.Errorf("empty variable: %v", err)
	}
}
