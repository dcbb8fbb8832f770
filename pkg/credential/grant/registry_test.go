package grant

import (
	"strings"
	"testing"
)

// TestKeysAreTheOnesOlderVersionsWrote: the key's grant part names the
// grant, audience and source exactly as before the grants had a package of
// their own, so cached tokens and approvals written by older versions
// still match.
// TestWhereTheSecretIsReadIsPartOfTheKey: the key (and so the approval)
// names the client secret's file or variable; without one the key is what
// older versions wrote (TestKeysAreTheOnesOlderVersionsWrote). Found by an
// outside review: the same approved key read any file or variable a
// stanza named and posted it to the issuer as client_secret.
func TestWhereTheSecretIsReadIsPartOfTheKey(t *testing.T) {
	base := Machine{Audience: "kapi", CISource: "gitlab", CITokenVar: "T", CITokenFile: "/f", ExchangeConnectorID: "gl"}
	for _, name := range []string{ClientCredentials, TokenExchange, JWTBearer} {
		g, _ := Lookup(name)
		keys := map[string]string{}
		for label, m := range map[string]Machine{
			"file":       {ClientSecretFile: "/run/secrets/kubectl"},
			"other file": {ClientSecretFile: "/home/a/.ssh/id_ed25519"},
			"env":        {ClientSecretEnv: "KAPI_SECRET"},
			"other env":  {ClientSecretEnv: "AWS_SECRET_ACCESS_KEY"},
		} {
			m.Audience, m.CISource, m.CITokenVar, m.CITokenFile, m.ExchangeConnectorID = base.Audience, base.CISource, base.CITokenVar, base.CITokenFile, base.ExchangeConnectorID
			r := &Request{Grant: g, Issuer: "https://dex", ClientID: "kubectl", Machine: m}
			key := r.KeyGrant()
			for other, k := range keys {
				if k == key {
					t.Errorf("%s: the secret from %s and from %s share the key %q", name, label, other, key)
				}
			}
			keys[label] = key
		}
	}
}

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
