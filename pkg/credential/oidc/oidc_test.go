package oidc

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestPeekClaims(t *testing.T) {
	c, err := PeekClaims(jwt(`{"iss":"https://i","sub":"u1","email":"a@x","groups":["g1","g2"],"aud":"client","exp":1700000000}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Claims{Issuer: "https://i", Subject: "u1", Email: "a@x", Groups: []string{"g1", "g2"}, Audience: []string{"client"}, Expiry: time.Unix(1700000000, 0)}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	c, err = PeekClaims(jwt(`{"aud":["a","b"],"exp":5}`))
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
		"no exp":       jwt(`{"aud":"x"}`),
		"string exp":   jwt(`{"aud":"x","exp":"soon"}`),
		"no audience":  jwt(`{"exp":5}`),
		"numeric aud":  jwt(`{"aud":7,"exp":5}`),
		"negative exp": jwt(`{"aud":"x","exp":-1}`),
	} {
		if _, err := PeekClaims(tok); err == nil {
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
