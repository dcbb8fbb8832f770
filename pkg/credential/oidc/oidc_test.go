package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/token"

	"github.com/securekapi/securekapi/internal/testjwt"
)

func TestPeekClaims(t *testing.T) {
	c, err := token.PeekClaims(testjwt.Raw(`{"iss":"https://i","sub":"u1","email":"a@x","groups":["g1","g2"],"aud":"client","exp":1700000000}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &token.Claims{Issuer: "https://i", Subject: "u1", Email: "a@x", Groups: []string{"g1", "g2"}, Audience: []string{"client"}, Expiry: time.Unix(1700000000, 0)}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	c, err = token.PeekClaims(testjwt.Raw(`{"aud":["a","b"],"exp":5}`))
	if err != nil || !reflect.DeepEqual(c.Audience, []string{"a", "b"}) {
		t.Fatalf("array audience: %v %v", c, err)
	}
}

func TestPeekClaimsRejectsGarbage(t *testing.T) {
	for name, tok := range map[string]string{
		"empty":        "",
		"two parts":    "a.b",
		"not base64":   "a.!!!.c",
		"not json":     "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c",
		"no exp":       testjwt.Raw(`{"aud":"x"}`),
		"string exp":   testjwt.Raw(`{"aud":"x","exp":"soon"}`),
		"no audience":  testjwt.Raw(`{"exp":5}`),
		"numeric aud":  testjwt.Raw(`{"aud":7,"exp":5}`),
		"negative exp": testjwt.Raw(`{"aud":"x","exp":-1}`),
	} {
		if _, err := token.PeekClaims(tok); err == nil {
			t.Errorf("%s: accepted %q", name, tok)
		} else if strings.Contains(err.Error(), tok) && tok != "" {
			t.Errorf("%s: error echoes the token: %v", name, err)
		}
	}
}

func TestScopesAreCanonical(t *testing.T) {
	got := Scopes([]string{"groups", " email ", "openid", "groups", ""})
	want := []string{"openid", "email", "groups"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Scopes = %v, want %v", got, want)
	}
}

// TestRequestScopesAddOfflineAccessOnlyWhenAdvertised: asking an issuer for
// a scope it does not list can fail the login, so offline_access follows
// the discovery document.
func TestRequestScopesAddOfflineAccessOnlyWhenAdvertised(t *testing.T) {
	for _, tc := range []struct {
		advertised string
		want       []string
	}{
		{`["openid","email","offline_access"]`, []string{"openid", "email", "offline_access"}},
		{`["openid","email"]`, []string{"openid", "email"}},
		{`null`, []string{"openid", "email"}},
	} {
		var issuer string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","scopes_supported":%s}`, issuer, tc.advertised)
		}))
		issuer = srv.URL
		p, err := Discover(t.Context(), Settings{Issuer: issuer, ClientID: "c", Scopes: []string{"email"}}, srv.Client())
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := p.RequestScopes(); !slices.Equal(got, tc.want) {
			t.Errorf("scopes_supported %s: RequestScopes() = %v, want %v", tc.advertised, got, tc.want)
		}
	}
}

// fakeIssuer serves a discovery document, and token answers the token
// endpoint when set.
func fakeIssuer(t *testing.T, token http.HandlerFunc) *httptest.Server {
	t.Helper()
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" && token != nil {
			token(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/keys","device_authorization_endpoint":"%[1]s/device"}`, issuer)
	}))
	issuer = srv.URL
	t.Cleanup(srv.Close)
	return srv
}

// TestReservedExtraParamsAreRefused: a profile or flag whose extra
// parameters name one securekapi sets would override it in the
// authorization URL (x/oauth2 applies options last): redirect_uri sends the
// code to the attacker. The provider refuses to start with them, whatever
// path they came by.
func TestReservedExtraParamsAreRefused(t *testing.T) {
	srv := fakeIssuer(t, nil)
	for _, name := range []string{"redirect_uri", "response_type", "response_mode", "client_id", "scope", "state", "nonce",
		"code_challenge", "code_challenge_method", "request_uri", " Redirect_URI "} {
		s := Settings{Issuer: srv.URL, ClientID: "c", ExtraParams: map[string]string{"prompt": "login", name: "https://attacker.example/cb"}}
		if _, err := Discover(t.Context(), s, srv.Client()); err == nil || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), name) {
			t.Errorf("Discover with extra param %q: err = %v, want it refused by name", name, err)
		}
	}
	if _, err := Discover(t.Context(), Settings{Issuer: srv.URL, ClientID: "c", ExtraParams: map[string]string{"": "x"}}, srv.Client()); err == nil {
		t.Error("an empty parameter name was accepted")
	}
}

// TestAuthorizationURLKeepsOurParams: allowed extra parameters reach the
// authorization URL, and ours (redirect_uri to the loopback callback,
// response_type=code, the PKCE challenge) are the ones sent.
func TestAuthorizationURLKeepsOurParams(t *testing.T) {
	srv := fakeIssuer(t, nil)
	p, err := Discover(t.Context(), Settings{Issuer: srv.URL, ClientID: "c", ExtraParams: map[string]string{"prompt": "consent", "audience": "kube"}}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	authURL := make(chan *url.URL, 1)
	var localURL string
	go p.BrowserLogin(ctx, BrowserOptions{Open: func(local string) error {
		localURL = local
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(local)
		if err != nil {
			return err
		}
		resp.Body.Close()
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			return err
		}
		authURL <- u
		return nil
	}})
	var u *url.URL
	select {
	case u = <-authURL:
	case <-time.After(10 * time.Second):
		t.Fatal("the loopback server never redirected to the authorization URL")
	}
	q := u.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	local, _ := url.Parse(localURL)
	if redirect == nil || redirect.Port() != local.Port() || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "c" {
		t.Errorf("authorization URL %s lacks securekapi's own parameters", u)
	}
	if q.Get("prompt") != "consent" || q.Get("audience") != "kube" {
		t.Errorf("authorization URL %s lacks the allowed extra parameters", u)
	}
}

// TestRefreshErrorDoesNotQuoteTheRefreshToken: the provider's
// error_description echoes the refresh token it was sent; the error keeps
// the provider's words without it.
func TestRefreshErrorDoesNotQuoteTheRefreshToken(t *testing.T) {
	const refreshToken = "CiRmYWtlLXJlZnJlc2gtdG9rZW4tMDEyMzQ1Njc4OWFiY2RlZg"
	srv := fakeIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"refresh token %s is revoked"}`, r.PostForm.Get("refresh_token"))
	})
	p, err := Discover(t.Context(), Settings{Issuer: srv.URL, ClientID: "c"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Refresh(t.Context(), refreshToken)
	var refreshErr *RefreshError
	if !errors.As(err, &refreshErr) {
		t.Fatalf("err = %v, want a RefreshError", err)
	}
	if strings.Contains(err.Error(), refreshToken[:20]) || !strings.Contains(err.Error(), "invalid_grant: refresh token [redacted] is revoked") {
		t.Fatalf("err = %v", err)
	}
}

// TestProviderErrorTextIsEscaped: an identity provider's error and
// error_description reach the terminal; an escape sequence or line break in
// them arrives as visible escapes, not as terminal control.
func TestProviderErrorTextIsEscaped(t *testing.T) {
	srv := fakeIssuer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant\u001b[2J","error_description":"log in again\r\n\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u202e"}`)
	})
	p, err := Discover(t.Context(), Settings{Issuer: srv.URL, ClientID: "c"}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Refresh(t.Context(), "CiRmYWtlLXJlZnJlc2gtdG9rZW4tMDEyMzQ1Njc4OWFiY2RlZg")
	if err == nil {
		t.Fatal("the refresh was accepted")
	}
	if strings.ContainsAny(err.Error(), "\x1b\x07\r\n\u202e") {
		t.Errorf("the provider's text reaches the terminal raw: %q", err)
	}
	if want := `invalid_grant\x1b[2J: log in again\r\n\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\u202e`; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to show %q", err, want)
	}
}
