package grant

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/credential/token"
)

// fakeDeps record the token request a grant makes.
type fakeDeps struct {
	ciToken string
	secret  string
	got     TokenRequest
}

func (f *fakeDeps) CIToken(context.Context) (*Issued, error) { return &Issued{Raw: f.ciToken}, nil }
func (f *fakeDeps) ClientSecret() (string, error)            { return f.secret, nil }
func (f *fakeDeps) ClientCredentials(context.Context, string, string) (*Issued, error) {
	return nil, errors.New("not this grant")
}
func (f *fakeDeps) TokenRequest(_ context.Context, t TokenRequest) (*Issued, error) {
	f.got = t
	return &Issued{Raw: "cluster-token", Claims: token.Claims{Issuer: "https://hydra"}}, nil
}

// TestJWTBearerSendsTheCITokenAsItsAssertion: RFC 7523's grant_type, the
// CI token as the assertion, the cluster's audience; a confidential
// client's secret when one is named; neither may reach an error.
func TestJWTBearerSendsTheCITokenAsItsAssertion(t *testing.T) {
	g, ok := Lookup(JWTBearer)
	if !ok || g.Person() || !g.UsesCIToken() {
		t.Fatal("jwt-bearer is not registered as a CI grant")
	}
	r := &Request{Grant: g, Issuer: "https://hydra", ClientID: "kubectl",
		Machine: Machine{Audience: "kapi", CISource: "env", CITokenVar: "T", ClientSecretEnv: "S"}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	d := &fakeDeps{ciToken: "the-ci-jwt", secret: "s3cret"}
	got, err := g.Obtain(context.Background(), r, d)
	if err != nil || got.Raw != "cluster-token" {
		t.Fatalf("obtain: %v, %v", got, err)
	}
	p := d.got.Params
	if p.Get("grant_type") != GrantTypeJWTBearer || p.Get("assertion") != "the-ci-jwt" || p.Get("audience") != "kapi" ||
		d.got.Audience != "kapi" || d.got.ClientSecret != "s3cret" {
		t.Errorf("request = %+v", d.got)
	}
	if !strings.Contains(strings.Join(d.got.Secrets, " "), "the-ci-jwt") || !strings.Contains(strings.Join(d.got.Secrets, " "), "s3cret") {
		t.Error("the assertion or secret may be quoted in an error")
	}
	if r.SubjectAudience() != "https://hydra" {
		t.Errorf("subject audience %s, want the issuer", r.SubjectAudience())
	}
	want := "jwt-bearer aud=kapi source=env var=T file= subject-aud=https://hydra secret-env=S"
	if k := r.KeyGrant(); k != want {
		t.Errorf("key grant %q, want %q", k, want)
	}
	if a := g.Approve(r); a != "--ci env --ci-grant jwt-bearer" {
		t.Errorf("approve %q", a)
	}
	if err := (&Request{Grant: g, Issuer: "https://hydra", ClientID: "kubectl"}).Validate(); err == nil || !strings.Contains(err.Error(), "--grant jwt-bearer needs --ci-token-source") {
		t.Errorf("no source: %v", err)
	}
}
