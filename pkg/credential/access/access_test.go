package access

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestFillFromExecArgs: what the user typed wins, everything else comes
// from the stanza, and values survive as they were written: repeated
// scopes and pins, and a parameter whose value holds a comma (which a
// round trip through a flag's text form splits).
func TestFillFromExecArgs(t *testing.T) {
	stanza := []string{"--cluster-name", "cluster-a", "--oidc-issuer-url", "https://dex.example.com",
		"--oidc-client-id", "kubectl", "--oidc-extra-scope", "email", "--oidc-extra-scope", "groups",
		"--oidc-auth-request-extra-params", "acr_values=urn:a,urn:b", "--oidc-auth-request-extra-params", "prompt=login",
		"--pin", "sha256:aa", "--pin", "sha256:bb", "--login-timeout", "1m", "--token-cache", "file"}

	var a Flags
	fs := pflag.NewFlagSet("login", pflag.ContinueOnError)
	a.AddFlags(fs)
	if err := fs.Parse([]string{"--token-cache", "keyring", "--oidc-extra-scope", "profile"}); err != nil {
		t.Fatal(err)
	}
	if err := a.FillFromExecArgs(stanza, fs.Changed); err != nil {
		t.Fatal(err)
	}
	if a.TokenCache != "keyring" || !slices.Equal(a.ExtraScopes, []string{"profile"}) {
		t.Errorf("the typed flags lost: token cache %q, scopes %v", a.TokenCache, a.ExtraScopes)
	}
	if a.Cluster != "cluster-a" || a.Issuer != "https://dex.example.com" || a.ClientID != "kubectl" || a.LoginTimeout != time.Minute {
		t.Errorf("the stanza's settings not filled in: %+v", a)
	}
	if !slices.Equal(a.Pins, []string{"sha256:aa", "sha256:bb"}) {
		t.Errorf("pins = %v", a.Pins)
	}
	if want := map[string]string{"acr_values": "urn:a,urn:b", "prompt": "login"}; !maps.Equal(a.ExtraParams, want) {
		t.Errorf("extra params = %v, want %v", a.ExtraParams, want)
	}
	if a.Grant != "auto" {
		t.Errorf("a default the stanza does not set changed: grant %q", a.Grant)
	}
	if err := a.FillFromExecArgs([]string{"--no-such-flag"}, fs.Changed); err == nil {
		t.Error("an unknown flag in the stanza was accepted")
	}
}
