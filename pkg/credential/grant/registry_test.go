package grant

import (
	"strings"
	"testing"
)

// TestKeysAreTheOnesOlderVersionsWrote: the key's grant part names the
// grant, audience and source exactly as before the grants had a package of
// their own, so cached tokens and approvals written by older versions
// still match.
func TestKeysAreTheOnesOlderVersionsWrote(t *testing.T) {
	m := Machine{Audience: "kapi", CISource: "gitlab", CITokenVar: "T", CITokenFile: "/f", ExchangeConnectorID: "gl"}
	for name, want := range map[string]string{
		Auto:              "",
		AuthCode:          "",
		CIToken:           "ci-token aud=kapi source=gitlab var=T file=/f subject-aud=kapi",
		TokenExchange:     "token-exchange aud=kapi source=gitlab var=T file=/f subject-aud=https://dex connector=gl",
		ClientCredentials: "client-credentials aud=kapi",
	} {
		g, _ := Lookup(name)
		r := &Request{Grant: g, Issuer: "https://dex", ClientID: "kubectl", Machine: m}
		if got := r.KeyGrant(); got != want {
			t.Errorf("%s: key grant %q, want %q", name, got, want)
		}
	}
}

// TestEveryGrantIsListedOnce: names are unique, and an unknown one is
// refused with the list a person picks from.
func TestEveryGrantIsListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range grants {
		if seen[g.Name()] {
			t.Errorf("two grants are named %s", g.Name())
		}
		seen[g.Name()] = true
		if g.Person() && g.KeyParts(&Request{Grant: g}) != nil {
			t.Errorf("%s needs a person but adds to the key", g.Name())
		}
	}
	_, err := Get("password")
	if err == nil || !strings.Contains(err.Error(), "use auto, auth-code or device-code (a person logs in), or ci-token, token-exchange") {
		t.Errorf("unknown grant: %v", err)
	}
}
