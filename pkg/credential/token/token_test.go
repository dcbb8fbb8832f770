package token

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

func TestUnusable(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good := `{"iss":"https://i","aud":"client","exp":1700000600}` // 10 minutes left
	for name, tc := range map[string]struct {
		token  string
		margin time.Duration
		want   string
	}{
		"usable":                 {testjwt.Raw(good), 0, ""},
		"audience list":          {testjwt.Raw(`{"iss":"https://i","aud":["x","client"],"exp":1700000600}`), 0, ""},
		"garbage":                {"not-a-jwt", 0, "garbage ID token"},
		"another issuer":         {testjwt.Raw(`{"iss":"https://evil","aud":"client","exp":1700000600}`), 0, "issued by https://evil"},
		"another audience":       {testjwt.Raw(`{"iss":"https://i","aud":"other","exp":1700000600}`), 0, "wrong audience"},
		"expired":                {testjwt.Raw(`{"iss":"https://i","aud":"client","exp":1699999999}`), 0, "expired"},
		"inside default margin":  {testjwt.Raw(`{"iss":"https://i","aud":"client","exp":1700000030}`), 0, "expired"},
		"inside a custom margin": {testjwt.Raw(good), 11 * time.Minute, "expired"},
	} {
		got := Unusable(&tokenstore.TokenSet{IDToken: tc.token}, "https://i", "client", tc.margin, now)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: Unusable = %q, want %q", name, got, tc.want)
		}
	}
}

func TestExpiryForIsTheMarginBeforeTheTokensExpiry(t *testing.T) {
	ts := &tokenstore.TokenSet{IDToken: testjwt.Raw(`{"iss":"https://i","aud":"client","exp":1700000600}`), Expiry: time.Unix(1, 0)}
	if got, want := ExpiryFor(ts, 0), time.Unix(1_700_000_600, 0).Add(-DefaultExpiryMargin); !got.Equal(want) {
		t.Errorf("ExpiryFor = %v, want %v", got, want)
	}
	if got, want := ExpiryFor(&tokenstore.TokenSet{IDToken: "x", Expiry: time.Unix(1000, 0)}, 5*time.Second), time.Unix(995, 0); !got.Equal(want) {
		t.Errorf("ExpiryFor without readable claims = %v, want the stored expiry less the margin %v", got, want)
	}
}

func TestKeyAlwaysRequestsOpenID(t *testing.T) {
	k := Key("https://i", "c", []string{"groups", "email", "groups", " "}, map[string]string{"a": "b"})
	if want := []string{"openid", "email", "groups"}; !reflect.DeepEqual(k.Scopes, want) {
		t.Errorf("scopes = %q, want %q", k.Scopes, want)
	}
	if k.Canonical() != Key("https://i", "c", []string{"email", "groups"}, map[string]string{"a": "b"}).Canonical() {
		t.Error("the same client spelt another way has another key")
	}
}
