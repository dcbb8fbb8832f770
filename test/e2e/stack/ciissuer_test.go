package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The stand-in's tokens verify with a real OIDC library through discovery
// and JWKS over its own CA, and carry GitHub Actions' claims.
func TestCIIssuerTokensVerifyThroughDiscovery(t *testing.T) {
	ci, client := startTestCIIssuer(t)
	verifier := verifierFor(t, ci, client, "https://kapi.example.test")

	raw, err := ci.Mint(CIJob{Repository: "org/app", Ref: "refs/heads/main", Environment: "prod", Audience: "https://kapi.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("a token the stand-in minted does not verify: %v", err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss": ci.URL, "sub": "repo:org/app:environment:prod", "repository": "org/app",
		"repository_owner": "org", "ref": "refs/heads/main", "environment": "prod",
		"job_workflow_ref": "org/app/.github/workflows/deploy.yml@refs/heads/main",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if got := tok.Expiry.Sub(tok.IssuedAt); got != 5*time.Minute {
		t.Errorf("lifetime %v, want 5m like GitHub's", got)
	}
	for _, k := range []string{"jti", "nbf"} {
		if claims[k] == nil {
			t.Errorf("claim %s missing", k)
		}
	}

	// Without an environment the subject names the ref, as GitHub's does.
	raw, _ = ci.Mint(CIJob{Repository: "org/app", Ref: "refs/heads/main", Audience: "https://kapi.example.test"})
	if tok, err = verifier.Verify(context.Background(), raw); err != nil || tok.Subject != "repo:org/app:ref:refs/heads/main" {
		t.Fatalf("subject %q, %v; want repo:org/app:ref:refs/heads/main", tok.Subject, err)
	}
}

// A verifier refuses what the stand-in must not vouch for: another
// audience, an expired token, and a forgery with the right claims and key
// id but another key.
func TestCIIssuerTokensAVerifierMustRefuse(t *testing.T) {
	ci, client := startTestCIIssuer(t)
	verifier := verifierFor(t, ci, client, "https://kapi.example.test")
	cases := map[string]CIJob{
		"another audience": {Repository: "org/app", Ref: "refs/heads/main", Audience: "https://other.example.test"},
		"expired":          {Repository: "org/app", Ref: "refs/heads/main", Audience: "https://kapi.example.test", IssuedAt: time.Now().Add(-time.Hour)},
		"forged":           {Repository: "org/app", Ref: "refs/heads/main", Audience: "https://kapi.example.test", UntrustedKey: true},
	}
	for name, job := range cases {
		raw, err := ci.Mint(job)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verifier.Verify(context.Background(), raw); err == nil {
			t.Errorf("%s: token verified; want it refused", name)
		}
	}
}

// The request endpoint behaves like GitHub's ACTIONS_ID_TOKEN_REQUEST_URL:
// the audience comes from the query the client appends, a wrong or missing
// request token gets 401, and each token handed out is counted.
func TestCIIssuerRequestEndpoint(t *testing.T) {
	ci, client := startTestCIIssuer(t)
	ci.SetJob(CIJob{Repository: "org/app", Ref: "refs/heads/release"})
	get := func(audience, authorization string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ci.RequestURL+"&audience="+url.QueryEscape(audience), nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, auth := range []string{"", "bearer wrong", "basic " + ci.RequestToken} {
		if code, body := get("https://kapi.example.test", auth); code != http.StatusUnauthorized || strings.Contains(body, "value") {
			t.Errorf("Authorization %q: %d %s; want 401 and no token", auth, code, body)
		}
	}
	if n := ci.TokenRequests(); n != 0 {
		t.Fatalf("%d tokens counted after refused requests", n)
	}

	code, body := get("https://kapi.example.test", "bearer "+ci.RequestToken)
	if code != http.StatusOK {
		t.Fatalf("request: %d %s", code, body)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil || answer.Value == "" {
		t.Fatalf("answer %s: %v", body, err)
	}
	tok, err := verifierFor(t, ci, client, "https://kapi.example.test").Verify(context.Background(), answer.Value)
	if err != nil {
		t.Fatalf("requested token does not verify for the audience asked for: %v", err)
	}
	if tok.Subject != "repo:org/app:ref:refs/heads/release" {
		t.Errorf("subject %q; want the job SetJob named", tok.Subject)
	}
	if n := ci.TokenRequests(); n != 1 {
		t.Errorf("%d tokens counted; want 1", n)
	}
}

func startTestCIIssuer(t *testing.T) (*CIIssuer, *http.Client) {
	t.Helper()
	ci, err := StartCIIssuer(CIIssuerOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ci.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ci.CA.CertPEM)
	return ci, &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func verifierFor(t *testing.T, ci *CIIssuer, client *http.Client, audience string) *oidc.IDTokenVerifier {
	t.Helper()
	provider, err := oidc.NewProvider(oidc.ClientContext(context.Background(), client), ci.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return provider.Verifier(&oidc.Config{ClientID: audience})
}
