package token

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/securekapi/securekapi/internal/testjwt"
)

// peekErrors are every error PeekClaims may return: fixed texts, because
// the input is a token.
var peekErrors = []string{
	"not a JWT (want three dot-separated parts)", "JWT payload is not base64url", "JWT payload is not JSON",
	"JWT has no valid exp claim", "JWT has no valid aud claim",
}

// FuzzPeekClaims: the cached ID token is read on every kubectl call without
// verification. PeekClaims never panics, its errors never quote the token,
// and the claims it reads survive being written into a token and read
// again.
func FuzzPeekClaims(f *testing.F) {
	for _, seed := range []string{
		testjwt.Raw(`{"iss":"https://i","sub":"u1","email":"a@x","groups":["g1","g2"],"aud":"client","exp":1700000000}`),
		testjwt.Raw(`{"aud":["a","b"],"exp":5}`), testjwt.Raw(`{"aud":[],"exp":1e3}`), testjwt.Raw(`{"aud":"x","exp":"12"}`),
		testjwt.Raw(`{"aud":"x","exp":9223372036854775807}`), testjwt.Raw(`{"aud":"x","exp":1.5}`), testjwt.Raw(`{"aud":null,"exp":1}`),
		testjwt.Raw(`{"aud":"x","exp":1,"groups":"g"}`), "", "a.b", "a.!!!.c", "..", "a.e30.c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := PeekClaims(raw)
		if err != nil {
			if c != nil || !slices.Contains(peekErrors, err.Error()) {
				t.Fatalf("PeekClaims(%q) = %+v, %q: want nil and one of the fixed messages", raw, c, err)
			}
			return
		}
		if c.Expiry.Unix() <= 0 {
			t.Fatalf("accepted expiry %v", c.Expiry)
		}
		payload, err := json.Marshal(map[string]any{"iss": c.Issuer, "sub": c.Subject, "email": c.Email,
			"groups": c.Groups, "aud": c.Audience, "exp": c.Expiry.Unix()})
		if err != nil {
			t.Fatal(err)
		}
		again, err := PeekClaims(testjwt.Raw(string(payload)))
		if err != nil {
			t.Fatalf("re-read of %+v: %v", c, err)
		}
		if again.Issuer != c.Issuer || again.Subject != c.Subject || again.Email != c.Email || !again.Expiry.Equal(c.Expiry) ||
			!slices.Equal(again.Groups, c.Groups) || !slices.Equal(again.Audience, c.Audience) {
			t.Fatalf("round trip changed the claims:\nfirst  %+v\nsecond %+v", c, again)
		}
	})
}
