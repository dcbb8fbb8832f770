package access

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// pflagOnly are AddFlags' flags that ParseExecArgsQuick leaves to pflag.
var pflagOnly = map[string]bool{}

func parseWithPflag(args []string) (Flags, []string, error) {
	var a Flags
	rest, err := a.ParseExecArgs(args)
	return a, rest, err
}

// TestQuickKnowsEveryFlag: a flag added to AddFlags must be read by the
// quick parser too, or be listed in pflagOnly (then every stanza with it
// goes to pflag, in the small program to the full CLI).
func TestQuickKnowsEveryFlag(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var a Flags
	a.AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		var q Flags
		value := "x"
		if f.Value.Type() == "duration" {
			value = "1s"
		}
		if f.Value.Type() == "stringToString" {
			value = "k=v"
		}
		if !q.ParseExecArgsQuick([]string{"--" + f.Name, value}) && !pflagOnly[f.Name] {
			t.Errorf("--%s (%s) is not read by ParseExecArgsQuick: add it to setQuick, or to pflagOnly", f.Name, f.Value.Type())
		}
	})
}

// TestQuickReadsWhatUseWrites: the exec args `use` writes take the quick
// path, and read as pflag reads them.
func TestQuickReadsWhatUseWrites(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--cluster-name", "prod", "--oidc-issuer-url", "https://dex.example.com/dex", "--oidc-client-id", "kubectl",
			"--oidc-extra-scope", "email", "--oidc-extra-scope", "groups", "--server", "https://kapi.example.com:6443",
			"--tls-server-name", "kapi.internal", "--pin", "sha256:" + strings.Repeat("ab", 32), "--pin", "sha256:" + strings.Repeat("cd", 32),
			"--token-cache", "keyring", "--cache-dir", "/home/a b/.cache", "--expiry-margin", "2m", "--login-timeout=90s",
			"--oidc-auth-request-extra-params", "prompt=consent", "--oidc-auth-request-extra-params=acr_values=a,b", "--grant", "device-code",
			"--browser-command", "open -a Firefox", "--listen-address", "127.0.0.1:8000", "--oidc-ca-file", "/etc/ca.pem"},
		{"--server=https://a", "--server", "https://b"}, // the last wins
	} {
		var q Flags
		if !q.ParseExecArgsQuick(args) {
			t.Fatalf("ParseExecArgsQuick refused %q", args)
		}
		p, rest, err := parseWithPflag(args)
		if err != nil || len(rest) > 0 || !reflect.DeepEqual(q, p) {
			t.Errorf("%q:\nquick %+v\npflag %+v (rest %q, %v)", args, q, p, rest, err)
		}
	}
}

// FuzzQuickParsesAsPflag: whatever the quick parser accepts, pflag parses
// without error or leftover arguments into the same Flags.
func FuzzQuickParsesAsPflag(f *testing.F) {
	f.Add("--pin\x00sha256:ab\x00--pin=a,b\x00--server\x00https://x")
	f.Add("--oidc-extra-scope\x00\"email\"\x00--cache-dir\x00-x")
	f.Add("--oidc-auth-request-extra-params\x00a=b=c\x00--expiry-margin\x001h\x00pos")
	f.Add("--grant=\x00--login-timeout\x00-1s\x00--\x00--server")
	f.Add("--listen-address\x00\x00--oidc-extra-scope=é\xff\x00-h\x00--help")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		var q Flags
		if !q.ParseExecArgsQuick(args) {
			return
		}
		p, rest, err := parseWithPflag(args)
		if err != nil || len(rest) > 0 {
			t.Fatalf("quick accepted %q, pflag: rest %q, %v", args, rest, err)
		}
		if !reflect.DeepEqual(q, p) {
			t.Fatalf("%q:\nquick %+v\npflag %+v", args, q, p)
		}
	})
}
