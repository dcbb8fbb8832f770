package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/securekapi/securekapi/internal/testjwt"
)

const fuzzRefreshToken = "rt-fuzz-0123456789-refresh-token"

// FuzzRefreshResponse: the token endpoint's answer to a refresh (status,
// content type, body) is outside input. Refresh never panics and its error
// never quotes the refresh token it sent nor any token the body carries:
// the error reaches stderr, and is logged.
func FuzzRefreshResponse(f *testing.F) {
	idToken := testjwt.Raw(`{"iss":"https://idp.fuzz.invalid","sub":"u","aud":"kubectl","exp":4102444800}`)
	for _, seed := range []struct {
		status      int
		contentType string
		body        string
	}{
		{200, "application/json", `{"access_token":"at-0123456789","token_type":"Bearer","id_token":"` + idToken + `","refresh_token":"rt-new-0123456789"}`},
		{200, "application/json", `{"access_token":"at-0123456789","token_type":"Bearer","expires_in":"3600"}`},
		{200, "application/x-www-form-urlencoded", "access_token=at-0123456789&id_token=" + idToken},
		{400, "application/json", `{"error":"invalid_grant","error_description":"refresh token ` + fuzzRefreshToken + ` is expired"}`},
		{400, "application/json", `{"error":"` + fuzzRefreshToken + `"}`},
		{401, "application/x-www-form-urlencoded", "error=invalid_client&error_description=bad&refresh_token=" + fuzzRefreshToken},
		{500, "text/html", "<html>upstream said " + fuzzRefreshToken + "</html>"},
		{200, "application/json", `{"access_token":` + strings.Repeat("[", 20)},
		{302, "", ""},
	} {
		f.Add(seed.status, seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			status = 200 + (status%400+400)%400
		}
		client := &http.Client{Transport: tokenEndpoint{status: status, contentType: contentType, body: body}}
		ctx := gooidc.ClientContext(context.Background(), client)
		pc := &gooidc.ProviderConfig{IssuerURL: "https://idp.fuzz.invalid", AuthURL: "https://idp.fuzz.invalid/auth",
			TokenURL: "https://idp.fuzz.invalid/token", JWKSURL: "https://idp.fuzz.invalid/keys", Algorithms: []string{"RS256"}}
		p := &Provider{settings: Settings{Issuer: pc.IssuerURL, ClientID: "kubectl"}, client: client, provider: pc.NewProvider(ctx)}

		tokens, err := p.Refresh(ctx, fuzzRefreshToken)
		if err == nil {
			if tokens.IDToken == "" || tokens.RefreshToken == "" {
				t.Fatalf("refresh succeeded without tokens: %+v", tokens)
			}
			return
		}
		for _, secret := range append(bodyTokens(contentType, body), fuzzRefreshToken) {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the refresh error quotes a token (%q): %v", secret, err)
			}
		}
	})
}

// bodyTokens are the token values a token endpoint body carries, read
// both as JSON and as a form (the oauth2 package reads either), that are
// long enough to be secrets rather than words.
func bodyTokens(contentType string, body []byte) []string {
	var out []string
	keep := func(s string) {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	var j map[string]any
	if json.Unmarshal(body, &j) == nil {
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			if s, ok := j[k].(string); ok {
				keep(s)
			}
		}
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		for _, k := range []string{"access_token", "id_token", "refresh_token"} {
			keep(form.Get(k))
		}
	}
	return out
}

// tokenEndpoint answers every request (token endpoint, key set) with one
// canned response; nothing leaves the process.
type tokenEndpoint struct {
	status      int
	contentType string
	body        []byte
}

func (e tokenEndpoint) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	if r.URL.Path != "/token" {
		return &http.Response{StatusCode: 404, Status: "404 Not Found", Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	}
	h := http.Header{}
	if e.contentType != "" {
		h.Set("Content-Type", e.contentType)
	}
	return &http.Response{StatusCode: e.status, Status: http.StatusText(e.status), Header: h,
		Body: io.NopCloser(bytes.NewReader(e.body)), ContentLength: int64(len(e.body)), Request: r}, nil
}
