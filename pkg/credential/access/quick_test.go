package access

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func parseWithPflag(args []string) (Flags, []string, error) {
	var a Flags
	rest, err := a.ParseExecArgs(args)
	return a, rest, err
}

// sampleValue sets the field p points at to a value other than its
// default, of the plain form `use` writes.
func sampleValue(t *testing.T, name string, p any) {
	switch p := p.(type) {
	case *string:
		*p = "value-of-" + name
	case *[]string:
		*p = []string{"first", "second"}
	case *map[string]string:
		*p = map[string]string{"k1": "v1", "k2": "v2"}
	case *time.Duration:
		*p = 7 * time.Second
	default:
		t.Fatalf("--%s: a field of kind %T", name, p)
	}
}

// TestEveryExecFlagRoundTrips: each flag of the tables, set alone, is
// written by ExecArgs and read back, by pflag and by the quick parse
// alike, as that one setting with every other at its default.
func TestEveryExecFlagRoundTrips(t *testing.T) {
	var defaults Flags
	if _, err := defaults.ParseExecArgs(nil); err != nil {
		t.Fatal(err)
	}
	check := func(name string, in, want Flags) {
		t.Helper()
		args := in.ExecArgs()
		if !slices.Contains(args, "--"+name) {
			t.Errorf("--%s: not written: %q", name, args)
		}
		p, rest, err := parseWithPflag(args)
		if err != nil || len(rest) > 0 || !reflect.DeepEqual(p, want) {
			t.Errorf("--%s: pflag read %q as\n%+v (rest %q, %v)\nwant %+v", name, args, p, rest, err, want)
		}
		var q Flags
		if !q.ParseExecArgsQuick(args) || !reflect.DeepEqual(q, want) {
			t.Errorf("--%s: the quick parse read %q as\n%+v\nwant %+v", name, args, q, want)
		}
	}
	for i := range personFlags {
		f := &personFlags[i]
		var in Flags
		want := defaults
		sampleValue(t, f.name, f.field(&in))
		sampleValue(t, f.name, f.field(&want))
		check(f.name, in, want)
	}
	for i := range machineFlags {
		f := &machineFlags[i]
		var in Flags
		want := defaults
		sampleValue(t, f.name, f.field(&in.Machine))
		sampleValue(t, f.name, f.field(&want.Machine))
		check(f.name, in, want)
	}
}

// TestEveryFieldHasOneExecFlag: every setting of Flags and Machine is an
// exec arg of exactly one flag, so a field added without a flag (which
// `use` would never write) or two flags for one field fail here.
func TestEveryFieldHasOneExecFlag(t *testing.T) {
	var a Flags
	flagOf := map[any]string{}
	add := func(name string, p any) {
		if other, ok := flagOf[p]; ok {
			t.Errorf("--%s and --%s set the same field", other, name)
		}
		flagOf[p] = name
	}
	for i := range personFlags {
		add(personFlags[i].name, personFlags[i].field(&a))
	}
	for i := range machineFlags {
		add(machineFlags[i].name, machineFlags[i].field(&a.Machine))
	}
	for _, v := range []reflect.Value{reflect.ValueOf(&a).Elem(), reflect.ValueOf(&a.Machine).Elem()} {
		for i := range v.NumField() {
			field := v.Type().Field(i)
			if field.Anonymous {
				continue // Machine: its fields are checked on their own
			}
			if !field.IsExported() {
				continue // what the flags read into, not a flag (issuerCA)
			}
			if _, ok := flagOf[v.Field(i).Addr().Interface()]; !ok {
				t.Errorf("%s.%s has no exec flag", v.Type().Name(), field.Name)
			}
		}
	}
}

// TestAddFlagsBindsTheTables: the flags stay as every kubeconfig `use`
// has written holds them (names, kinds, defaults, order): renaming one
// breaks those stanzas, and a new default changes what they mean.
func TestAddFlagsBindsTheTables(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.SortFlags = false
	var a Flags
	a.AddFlags(fs)
	var got []string
	fs.VisitAll(func(f *pflag.Flag) { got = append(got, f.Name+" "+f.Value.Type()+" "+f.DefValue) })
	want := []string{"cluster-name string ", "oidc-issuer-url string ", "oidc-client-id string ",
		"oidc-extra-scope stringSlice []", "oidc-auth-request-extra-params stringToString []",
		"oidc-ca-file string ", "server string ", "tls-server-name string ", "pin stringSlice []",
		"token-cache string ", "cache-dir string ", "grant string auto", "browser-command string ",
		"login-timeout duration 5m0s", "expiry-margin duration 1m0s", "listen-address stringSlice []",
		"audience string ", "ci-token-source string ", "ci-token-var string ", "ci-token-file string ",
		"ci-token-audience string ", "token-exchange-connector-id string ", "client-secret-file string ",
		"client-secret-env string "}
	if !slices.Equal(got, want) {
		t.Errorf("AddFlags bound\n%q\nwant\n%q", got, want)
	}
	ms := pflag.NewFlagSet("use", pflag.ContinueOnError)
	AddMachineFlags(ms, &a.Machine)
	if ms.Lookup(ciTokenSourceFlag) != nil || ms.Lookup("audience") == nil || ms.Lookup("client-secret-env") == nil {
		t.Error("AddMachineFlags binds --ci-token-source (use calls it --ci), or misses a machine flag")
	}
}

// TestStoreFlagsAreTheTablesRows: status's and use's store flags are the
// rows AddFlags binds (name, kind, default and help), into the same
// fields, and nothing else.
func TestStoreFlagsAreTheTablesRows(t *testing.T) {
	all := pflag.NewFlagSet("all", pflag.ContinueOnError)
	(&Flags{}).AddFlags(all)
	for name, bind := range map[string]func(*Flags, *pflag.FlagSet){
		"AddStoreFlags": (*Flags).AddStoreFlags, "AddTokenCacheFlag": (*Flags).AddTokenCacheFlag} {
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		fs.SortFlags = false
		var a Flags
		bind(&a, fs)
		var got []string
		fs.VisitAll(func(f *pflag.Flag) {
			got = append(got, f.Name)
			if row := all.Lookup(f.Name); row == nil || row.Usage != f.Usage || row.DefValue != f.DefValue || row.Value.Type() != f.Value.Type() {
				t.Errorf("%s: --%s is not AddFlags' row: %+v", name, f.Name, f)
			}
		})
		want := []string{"token-cache", "cache-dir"}
		if name == "AddTokenCacheFlag" {
			want = want[:1]
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s bound %q, want %q", name, got, want)
		}
		if err := fs.Parse([]string{"--token-cache", "file"}); err != nil || a.TokenCache != "file" {
			t.Errorf("%s: --token-cache file gave %q (%v)", name, a.TokenCache, err)
		}
	}
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
