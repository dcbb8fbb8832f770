package access

import (
	"strings"
	"testing"
)

// stanzaArgs are exec args of the shape `use` writes for a person's login:
// what the small exec program parses on every kubectl call.
var stanzaArgs = []string{"--cluster-name", "prod", "--oidc-issuer-url", "https://dex.example.com/dex", "--oidc-client-id", "kubectl",
	"--oidc-extra-scope", "email", "--oidc-extra-scope", "groups", "--server", "https://kapi.example.com:6443",
	"--pin", "sha256:" + strings.Repeat("ab", 32), "--token-cache", "keyring", "--cache-dir", "/home/a/.cache/securekapi"}

// ciStanzaArgs are the exec args of `use --ci github --ci-grant token-exchange`.
var ciStanzaArgs = []string{"--cluster-name", "prod", "--oidc-issuer-url", "https://dex.example.com/dex", "--oidc-client-id", "kubectl",
	"--server", "https://kapi.example.com:6443", "--pin", "sha256:" + strings.Repeat("ab", 32), "--grant", "token-exchange",
	"--ci-token-source", "github", "--token-exchange-connector-id", "github-actions"}

// BenchmarkParseExecArgsQuick: the pflag-free parse of a stanza's args,
// which the small exec program runs on every kubectl call.
func BenchmarkParseExecArgsQuick(b *testing.B) {
	benchParse(b, (*Flags).ParseExecArgsQuick)
}

// BenchmarkParseExecArgsPflag: the same args through pflag, what the quick
// parse replaces on the small program's path; run beside
// BenchmarkParseExecArgsQuick to see whether the quick parse still pays
// (issue #24).
func BenchmarkParseExecArgsPflag(b *testing.B) {
	benchParse(b, func(a *Flags, args []string) bool {
		rest, err := a.ParseExecArgs(args)
		return err == nil && len(rest) == 0
	})
}

// benchParse times parse on a person's and a CI job's stanza args.
func benchParse(b *testing.B, parse func(*Flags, []string) bool) {
	for _, bc := range []struct {
		name string
		args []string
	}{{"person", stanzaArgs}, {"ci", ciStanzaArgs}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			// One Flags on the heap, as in execplugin.Answer (where it
			// escapes): the parse's own cost, not the struct's allocation.
			a := new(Flags)
			for b.Loop() {
				if !parse(a, bc.args) {
					b.Fatal("refused")
				}
			}
		})
	}
}

// BenchmarkValidate: the checks of the parsed args (safetext's text checks
// included), which the small exec program also runs on every kubectl call.
func BenchmarkValidate(b *testing.B) {
	for _, bc := range []struct {
		name string
		args []string
	}{{"person", stanzaArgs}, {"ci", ciStanzaArgs}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			a := new(Flags)
			if !a.ParseExecArgsQuick(bc.args) {
				b.Fatal("refused")
			}
			for b.Loop() {
				if err := a.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
