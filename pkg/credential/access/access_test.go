package access

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/securekapi/securekapi/pkg/credential/grant"
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

// TestExecArgsRoundTrip: what ExecArgs writes, ParseExecArgs and the fast
// path's quick parse read back as the same settings; unset settings are
// not written, so their defaults apply.
func TestExecArgsRoundTrip(t *testing.T) {
	for name, in := range map[string]Flags{
		"a person's login": {Cluster: "cluster-a", Issuer: "https://dex.example.com", ClientID: "kubectl",
			ExtraScopes: []string{"email", "groups"}, ExtraParams: map[string]string{"prompt": "login", "acr_values": "urn:a"},
			OIDCCAFile: "/etc/ca.pem", Server: "https://kapi.example.com", TLSServerName: "kapi.example.com",
			Pins: []string{"sha256:aa", "sha256:bb"}, TokenCache: "file"},
		"a CI grant": {Cluster: "cluster-a", Issuer: "https://token.actions.githubusercontent.com", ClientID: "https://kapi.example.com",
			Server: "https://kapi.example.com", TLSServerName: "kapi.example.com", Pins: []string{"sha256:aa"},
			Grant: grant.CIToken, Machine: grant.Machine{CISource: "github"}},
	} {
		t.Run(name, func(t *testing.T) {
			args := in.ExecArgs()
			var got Flags
			if _, err := got.ParseExecArgs(args); err != nil {
				t.Fatalf("ParseExecArgs(%q): %v", args, err)
			}
			want := in
			if want.Grant == "" {
				want.Grant = "auto"
			}
			want.LoginTimeout, want.ExpiryMargin = got.LoginTimeout, got.ExpiryMargin // the defaults
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back %+v\nwant      %+v\nfrom %q", got, want, args)
			}
			var quick Flags
			if !quick.ParseExecArgsQuick(args) || !reflect.DeepEqual(quick, got) {
				t.Errorf("the quick parse differs: %+v", quick)
			}
		})
	}
	if args := (&Flags{}).ExecArgs(); len(args) != 0 {
		t.Errorf("unset settings were written: %q", args)
	}
	if args := (&Flags{Grant: grant.Auto, Machine: grant.Machine{CISource: "github"}}).ExecArgs(); !slices.Contains(args, "--grant") {
		t.Errorf("a CI stanza with grant auto does not name it: %q", args)
	}
}

// TestApproveCommandFitsTheGrant: a refusal tells a person to log in, and
// a CI job (which never logs in) the `use` that approves its grant, in a
// form `use` accepts.
func TestApproveCommandFitsTheGrant(t *testing.T) {
	for want, a := range map[string]Flags{
		"kubectl securekapi login c":                                                         {Cluster: "c", Grant: grant.Auto},
		"kubectl securekapi use c --ci github --approve":                                     {Cluster: "c", Grant: grant.CIToken, Machine: grant.Machine{CISource: "github"}},
		"kubectl securekapi use c --ci gitlab --ci-grant token-exchange --approve":           {Cluster: "c", Grant: grant.TokenExchange, Machine: grant.Machine{CISource: "gitlab"}},
		"kubectl securekapi use c --ci-grant client-credentials --ci-client-id ci --approve": {Cluster: "c", Grant: grant.ClientCredentials, ClientID: "ci"},
		"kubectl securekapi use NAME --ci env --approve":                                     {Grant: grant.CIToken, Machine: grant.Machine{CISource: "env"}},
	} {
		if got := a.ApproveCommand(); got != want {
			t.Errorf("%s grant: %q, want %q", a.Grant, got, want)
		}
	}
}
