package oidc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/grant"
)

// signingIssuer is an OIDC issuer with a real signing key, a JWKS and a token
// endpoint whose answer each test chooses; it records what was posted.
type signingIssuer struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu     sync.Mutex
	form   url.Values
	user   string
	secret string
	answer func(form url.Values) (int, any)
}

func newSigningIssuer(t *testing.T) *signingIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &signingIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": f.URL, "token_endpoint": f.URL + "/token",
			"authorization_endpoint": f.URL + "/auth", "jwks_uri": f.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		enc := base64.RawURLEncoding.EncodeToString
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
			"n": enc(key.N.Bytes()), "e": enc(big.NewInt(int64(key.E)).Bytes())}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.form = r.PostForm
		f.user, f.secret, _ = r.BasicAuth()
		answer := f.answer
		f.mu.Unlock()
		code, body := answer(r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// sign makes a JWT from this issuer with the given claims on top of
// iss, sub and a ten-minute exp.
func (f *signingIssuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": f.URL, "sub": "ci-sub", "exp": time.Now().Add(10 * time.Minute).Unix(), "iat": time.Now().Unix()}
	for k, v := range claims {
		c[k] = v
	}
	enc := base64.RawURLEncoding.EncodeToString
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	body, _ := json.Marshal(c)
	signed := enc(head) + "." + enc(body)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + enc(sig)
}

func (f *signingIssuer) provider(t *testing.T, s Settings) *Provider {
	t.Helper()
	s.Issuer = f.URL
	p, err := Discover(context.Background(), s, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// exchange runs the token-exchange grant (its form is package grant's) at
// p, for the subject token, through Dex's connector.
func exchange(p *Provider, subject, connector string) (*Tokens, error) {
	g, _ := grant.Lookup(grant.TokenExchange)
	r := &grant.Request{Grant: g, ClientID: p.settings.ClientID, Machine: grant.Machine{CISource: "env", ExchangeConnectorID: connector}}
	got, err := g.Obtain(context.Background(), r, exchangeDeps{p, subject})
	if err != nil {
		return nil, err
	}
	return &Tokens{IDToken: got.Raw, Claims: got.Claims}, nil
}

// exchangeDeps are grant.Deps with a fixed subject token and p's token
// endpoint.
type exchangeDeps struct {
	p       *Provider
	subject string
}

func (d exchangeDeps) CIToken(context.Context) (*grant.Issued, error) {
	return &grant.Issued{Raw: d.subject}, nil
}
func (exchangeDeps) ClientSecret() (string, error) { return "", errors.New("no secret") }
func (exchangeDeps) ClientCredentials(context.Context, string, string) (*grant.Issued, error) {
	return nil, errors.New("not this grant")
}
func (d exchangeDeps) TokenRequest(ctx context.Context, r grant.TokenRequest) (*grant.Issued, error) {
	t, err := d.p.TokenRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	return &grant.Issued{Raw: t.IDToken, Claims: t.Claims}, nil
}

// TestExchangeSendsRFC8693Parameters: the request names the grant, the
// subject token and its type, the ID token it wants, the audience and
// Dex's connector; the client authenticates in the header; the ID token
// Dex returns in access_token is verified and returned.
func TestExchangeSendsRFC8693Parameters(t *testing.T) {
	f := newSigningIssuer(t)
	var issued string
	f.answer = func(form url.Values) (int, any) {
		issued = f.sign(t, map[string]any{"aud": "kubectl", "email": "ci@example.com", "groups": []string{"deployers"}})
		return 200, map[string]any{"access_token": issued, "issued_token_type": grant.TokenTypeIDToken, "token_type": "bearer", "expires_in": 600}
	}
	p := f.provider(t, Settings{ClientID: "kubectl", Scopes: []string{"groups", "email"}})
	got, err := exchange(p, "the-ci-token", "github")
	if err != nil {
		t.Fatal(err)
	}
	if got.IDToken != issued || got.Claims.Email != "ci@example.com" || got.RefreshToken != "" {
		t.Errorf("tokens = %+v", got)
	}
	want := map[string]string{
		"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
		"subject_token":        "the-ci-token",
		"subject_token_type":   "urn:ietf:params:oauth:token-type:id_token",
		"requested_token_type": "urn:ietf:params:oauth:token-type:id_token",
		"audience":             "kubectl",
		"connector_id":         "github",
		"scope":                "openid email groups",
	}
	for k, v := range want {
		if f.form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.form.Get(k), v)
		}
	}
	if f.user != "kubectl" || f.secret != "" || f.form.Get("client_secret") != "" {
		t.Errorf("client authentication: user %q secret %q", f.user, f.secret)
	}
}

// TestExchangeRefusedNamesTheCauseNotTheToken: the IdP's refusal is said
// with its error code, never quoting the subject token even when the
// IdP's description does.
func TestExchangeRefusedNamesTheCauseNotTheToken(t *testing.T) {
	f := newSigningIssuer(t)
	f.answer = func(form url.Values) (int, any) {
		return 401, map[string]string{"error": "access_denied", "error_description": "bad token " + form.Get("subject_token")}
	}
	p := f.provider(t, Settings{ClientID: "kubectl"})
	_, err := exchange(p, "SUBJECT-SECRET", "github")
	if err == nil || !strings.Contains(err.Error(), "access_denied") || !strings.Contains(err.Error(), "through connector github") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "SUBJECT-SECRET") {
		t.Errorf("error quotes the subject token: %v", err)
	}
}

// TestExchangeRefusesATokenForAnotherAudience: an issuer that answers with
// a token for another client (or signed by someone else) is refused here,
// not handed to kubectl.
func TestExchangeRefusesATokenForAnotherAudience(t *testing.T) {
	f := newSigningIssuer(t)
	other := newSigningIssuer(t)
	for name, tok := range map[string]func() string{
		"other audience": func() string { return f.sign(t, map[string]any{"aud": "someone-else"}) },
		"other key":      func() string { return other.sign(t, map[string]any{"aud": "kubectl", "iss": f.URL}) },
	} {
		f.answer = func(url.Values) (int, any) {
			return 200, map[string]any{"access_token": tok(), "issued_token_type": grant.TokenTypeIDToken, "token_type": "bearer"}
		}
		p := f.provider(t, Settings{ClientID: "kubectl"})
		if _, err := exchange(p, "s", ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestClientCredentialsSendsTheSecretInTheHeaderOnly: RFC 6749 4.4 with
// client_secret_basic and the audience; the JWT access token is verified
// for that audience; a refusal never quotes the secret.
func TestClientCredentialsSendsTheSecretInTheHeaderOnly(t *testing.T) {
	f := newSigningIssuer(t)
	f.answer = func(form url.Values) (int, any) {
		return 200, map[string]any{"access_token": f.sign(t, map[string]any{"aud": []string{"kube"}, "sub": "ci-client"}), "token_type": "bearer", "expires_in": 600}
	}
	p := f.provider(t, Settings{ClientID: "ci-client", Scopes: []string{"deploy"}})
	got, err := p.ClientCredentials(context.Background(), "s3cret", "kube")
	if err != nil {
		t.Fatal(err)
	}
	if got.Claims.Subject != "ci-client" {
		t.Errorf("claims = %+v", got.Claims)
	}
	if f.form.Get("grant_type") != "client_credentials" || f.form.Get("audience") != "kube" || f.form.Get("scope") != "deploy" {
		t.Errorf("form = %v", f.form)
	}
	if f.user != "ci-client" || f.secret != "s3cret" || f.form.Get("client_secret") != "" {
		t.Errorf("client authentication: user %q, secret in form %q", f.user, f.form.Get("client_secret"))
	}

	f.answer = func(url.Values) (int, any) {
		return 401, map[string]string{"error": "invalid_client", "error_description": "secret s3cret is wrong"}
	}
	_, err = p.ClientCredentials(context.Background(), "s3cret", "kube")
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("refusal: %v", err)
	}

	f.answer = func(url.Values) (int, any) {
		return 200, map[string]any{"access_token": "opaque-not-a-jwt", "token_type": "bearer"}
	}
	_, err = p.ClientCredentials(context.Background(), "s3cret", "kube")
	if err == nil || !strings.Contains(err.Error(), "JWT access tokens") {
		t.Errorf("opaque token: %v", err)
	}
}
