package tokenstore

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestKeyCanonicalIgnoresOrder(t *testing.T) {
	a := Key{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid", "email", "groups"},
		ExtraParams: map[string]string{"audience": "x", "prompt": "consent"}}
	b := Key{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"groups", "openid", "email", "email"},
		ExtraParams: map[string]string{"prompt": "consent", "audience": "x"}}
	if a.Canonical() != b.Canonical() || a.ID() != b.ID() {
		t.Fatalf("order or duplicates changed the key:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	if empty, nilKey := (Key{Scopes: []string{}, ExtraParams: map[string]string{}}), (Key{}); empty.ID() != nilKey.ID() {
		t.Fatal("empty and nil scopes/params differ")
	}
}

func TestKeyCanonicalSensitiveToEveryField(t *testing.T) {
	base := Key{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid"}, ExtraParams: map[string]string{"a": "1"}}
	variants := []Key{
		{Issuer: "https://dex/", ClientID: "kubectl", Scopes: []string{"openid"}, ExtraParams: map[string]string{"a": "1"}},
		{Issuer: "https://dex", ClientID: "kubectl2", Scopes: []string{"openid"}, ExtraParams: map[string]string{"a": "1"}},
		{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid", "email"}, ExtraParams: map[string]string{"a": "1"}},
		{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid"}, ExtraParams: map[string]string{"a": "2"}},
		{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid"}, ExtraParams: map[string]string{"b": "1"}},
		{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid"}},
		{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid"}, ExtraParams: map[string]string{"a": "1"}, Grant: "token-exchange"},
	}
	for _, v := range variants {
		if v.ID() == base.ID() {
			t.Errorf("%s collides with %s", v.Canonical(), base.Canonical())
		}
	}
}

// A person's key must not change when machine grants are added: every
// cached login and approval on a user's machine is stored under it.
func TestKeyOfAPersonsLoginIsUnchanged(t *testing.T) {
	k := Key{Issuer: "https://dex", ClientID: "kubectl", Scopes: []string{"openid"}}
	const want = `securekapi-key/v1 issuer="https://dex" client_id="kubectl" scopes=["openid"] extra_params={}`
	if got := k.Canonical(); got != want {
		t.Errorf("Canonical() = %s, want %s", got, want)
	}
}

func TestKeyCanonicalTrickyInputsDoNotCollide(t *testing.T) {
	keys := []Key{
		{Scopes: []string{"a b"}},
		{Scopes: []string{"a", "b"}},
		{Scopes: []string{"a,b"}},
		{Scopes: []string{`a","b`}},
		{Scopes: []string{""}},
		{Scopes: []string{}},
		{Issuer: "a", ClientID: "b"},
		{Issuer: `a" client_id="b`},
		{Issuer: "a b"},
		{ExtraParams: map[string]string{"a": "b,c:d"}},
		{ExtraParams: map[string]string{"a": "b", "c": "d"}},
		{ExtraParams: map[string]string{"a=b": ""}},
		{ExtraParams: map[string]string{"a": "=b"}},
		{ExtraParams: map[string]string{"": ""}},
		{Issuer: "\xff"},
		{Issuer: "\xfe"},
		{Issuer: "\ufffd"},
	}
	seen := map[string]int{}
	for i, k := range keys {
		if j, ok := seen[k.Canonical()]; ok {
			t.Errorf("keys %d and %d collide: %s", j, i, k.Canonical())
		}
		seen[k.Canonical()] = i
	}
}

// FuzzKeyCanonical: two keys have the same canonical text exactly when they
// are equal after normalization (scopes as a set, params as a map).
func FuzzKeyCanonical(f *testing.F) {
	f.Add("https://dex", "kubectl", "openid\x00email", "a\x001", "https://dex", "kubectl", "email\x00openid", "a\x001")
	f.Add("i", "c", "a b", "", "i", "c", "a\x00b", "")
	f.Add("i", "c", "", "k\x00v,w", "i", "c", "", "k\x00v\x00w")
	f.Add("\xff", "", "", "", "\xfe", "", "", "")
	f.Fuzz(func(t *testing.T, iss1, cid1, sc1, pr1, iss2, cid2, sc2, pr2 string) {
		k1, k2 := fuzzKey(iss1, cid1, sc1, pr1), fuzzKey(iss2, cid2, sc2, pr2)
		equal := k1.Issuer == k2.Issuer && k1.ClientID == k2.ClientID &&
			slices.Equal(normalScopes(k1.Scopes), normalScopes(k2.Scopes)) && maps.Equal(k1.ExtraParams, k2.ExtraParams)
		if same := k1.Canonical() == k2.Canonical(); same != equal {
			t.Fatalf("equal=%v but canonical same=%v:\n%s\n%s", equal, same, k1.Canonical(), k2.Canonical())
		}
		shuffled := k1
		shuffled.Scopes = slices.Clone(k1.Scopes)
		slices.Reverse(shuffled.Scopes)
		if shuffled.Canonical() != k1.Canonical() {
			t.Fatal("scope order changed the canonical text")
		}
	})
}

// fuzzKey splits scopes on NUL and params into NUL-separated name/value pairs.
func fuzzKey(issuer, clientID, scopes, params string) Key {
	k := Key{Issuer: issuer, ClientID: clientID}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, "\x00")
	}
	if params != "" {
		k.ExtraParams = map[string]string{}
		fields := strings.Split(params, "\x00")
		for i := 0; i+1 < len(fields); i += 2 {
			k.ExtraParams[fields[i]] = fields[i+1]
		}
	}
	return k
}
