package add

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestAddRequestsTheIdentityScopesTheIssuerOffers: the README's `add`
// without --oidc-extra-scope asks for email and groups when the issuer
// offers them, and says so, so an API server mapping users by email sees
// one.
func TestAddRequestsTheIdentityScopesTheIssuerOffers(t *testing.T) {
	f := cmdtest.NewAddFixture(t, "openid", "email", "groups", "profile", "offline_access")
	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("cluster-a")...)
	if err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	if got := f.Registered(t, "cluster-a").OIDC.ExtraScopes; strings.Join(got, ",") != "email,groups" {
		t.Errorf("extra scopes = %v, want email,groups", got)
	}
	if !strings.Contains(errOut, "requesting email and groups") {
		t.Errorf("add did not say which scopes it chose:\n%s", errOut)
	}
	// How the chain was trusted is said, never an empty "(pin )".
	if strings.Contains(errOut, "(pin )") || !strings.Contains(errOut, "trusted by its CA bundle") {
		t.Errorf("verification line:\n%s", errOut)
	}

	t.Run("scopes the user gave are kept", func(t *testing.T) {
		_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("cluster-b", "--oidc-extra-scope", "profile")...)
		if err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if got := f.Registered(t, "cluster-b").OIDC.ExtraScopes; strings.Join(got, ",") != "profile" {
			t.Errorf("extra scopes = %v, want profile", got)
		}
	})
	t.Run("only what the issuer offers", func(t *testing.T) {
		f := cmdtest.NewAddFixture(t, "openid", "email")
		if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("c")...); err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if got := f.Registered(t, "c").OIDC.ExtraScopes; strings.Join(got, ",") != "email" {
			t.Errorf("extra scopes = %v, want email", got)
		}
	})
	t.Run("an issuer that lists no scopes", func(t *testing.T) {
		f := cmdtest.NewAddFixture(t)
		_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("c")...)
		if err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if got := f.Registered(t, "c").OIDC.ExtraScopes; len(got) != 0 || !strings.Contains(errOut, "--oidc-extra-scope email") {
			t.Errorf("extra scopes = %v; stderr:\n%s", got, errOut)
		}
	})
}

// TestAddStoresTheOIDCCAFileAbsolute: the exec plugin reads the path from
// whatever directory kubectl runs in.
func TestAddStoresTheOIDCCAFileAbsolute(t *testing.T) {
	f := cmdtest.NewAddFixture(t, "email")
	t.Chdir(filepath.Dir(f.IssuerCAFile))
	args := f.Args("cluster-a")
	args[len(args)-1] = filepath.Base(f.IssuerCAFile)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, args...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	if got := f.Registered(t, "cluster-a").OIDC.CAFile; got != f.IssuerCAFile {
		t.Errorf("oidc.CAFile = %q, want the absolute %q", got, f.IssuerCAFile)
	}
}

// TestAddNamesTheFlagAtFault: bad values fail before any network call,
// with an error naming the flag the user typed, and nothing is saved.
func TestAddNamesTheFlagAtFault(t *testing.T) {
	f := cmdtest.NewAddFixture(t, "email")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	binary := filepath.Join(dir, "binary.pem")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(binary, []byte{0x30, 0x82, 0x01, 0x0a, 0x00, 0xff}, 0o644)
	without := func(flag string) []string {
		args := f.Args("c")
		for i, a := range args {
			if a == flag {
				return append(args[:i:i], args[i+2:]...)
			}
		}
		t.Fatalf("no %s in %v", flag, args)
		return nil
	}
	set := func(flag, value string) []string {
		args := f.Args("c")
		for i, a := range args {
			if a == flag {
				args[i+1] = value
			}
		}
		return args
	}
	cases := []struct {
		args []string
		want string
	}{
		{without("--oidc-client-id"), "--oidc-client-id is required"},
		{without("--oidc-issuer-url"), "--oidc-issuer-url is required"},
		{without("--server"), "--server is required"},
		{f.Args(strings.Repeat("a", 5000)), "5000 characters long; the limit is 253"},
		{set("--server", "https://host/some/path?q=1#f"), `--server "https://host/some/path?q=1#f": must not have a query`},
		{set("--server", "https://host/some/path"), "--server \"https://host/some/path\": has a path"},
		{set("--oidc-issuer-url", "https://127.0.0.1:99999/dex"), "--oidc-issuer-url \"https://127.0.0.1:99999/dex\": port 99999 is not a TCP port"},
		{f.Args("c", "--tunnel-gateway", "gw.example.com:99999", "--tunnel-client-cert", "a", "--tunnel-client-key", "b"), "--tunnel-gateway \"gw.example.com:99999\": port 99999"},
		{f.Args("c", "-n", "bad ns!"), `--namespace "bad ns!": must be a namespace name`},
		{f.Args("c", "--oidc-extra-scope", "email groups"), "--oidc-extra-scope: \"email groups\" contains ' '"},
		{f.Args("c", "--tunnel-client-cert", "me.crt"), "--tunnel-client-cert needs --tunnel-gateway"},
		{set("--oidc-ca-file", filepath.Join(dir, "missing.pem")), "--oidc-ca-file: open"},
		{set("--oidc-ca-file", empty), "--oidc-ca-file " + empty + ": no PEM certificates"},
		{set("--oidc-ca-file", binary), "--oidc-ca-file " + binary + ": no PEM certificates"},
		{set("--ca-file", binary), "--ca-file " + binary + ": no PEM certificates"},
	}
	for _, c := range cases {
		_, _, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("add %q:\n  err = %v\n  want it to contain %q", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "oidc.") {
			t.Errorf("add %q: error names a profile field, not a flag: %v", c.args, err)
		}
	}
	if _, err := os.Stat(f.RegistryPath); !os.IsNotExist(err) {
		t.Errorf("a refused add wrote the registry (%v)", err)
	}
}

// TestAddRefusesToReplaceARegisteredCluster: `add` over a registered name
// with other settings changes nothing and shows the change, as import does;
// --replace makes the change and says what it was.
func TestAddRefusesToReplaceARegisteredCluster(t *testing.T) {
	f := cmdtest.NewAddFixture(t)
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("cluster-a", "--namespace", "team-a")...); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	before, err := os.ReadFile(f.RegistryPath)
	if err != nil {
		t.Fatal(err)
	}

	_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("cluster-a", "--namespace", "team-b")...)
	if err == nil {
		t.Fatalf("add over a registered name with other settings succeeded:\n%s", errOut)
	}
	for _, want := range []string{"already registered", "namespace: team-a -> team-b", "--replace", "nothing was changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if after, _ := os.ReadFile(f.RegistryPath); !bytes.Equal(before, after) {
		t.Errorf("the refused add changed the registry:\n%s", after)
	}

	t.Run("the same settings again are fine", func(t *testing.T) {
		_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("cluster-a", "--namespace", "team-a")...)
		if err != nil {
			t.Fatalf("add: %v\n%s", err, errOut)
		}
		if !strings.Contains(errOut, "already registered with these settings") {
			t.Errorf("stderr:\n%s", errOut)
		}
	})
	t.Run("--replace replaces and shows the change", func(t *testing.T) {
		_, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, f.Args("cluster-a", "--namespace", "team-b", "--replace")...)
		if err != nil {
			t.Fatalf("add --replace: %v\n%s", err, errOut)
		}
		if got := f.Registered(t, "cluster-a").Namespace; got != "team-b" {
			t.Errorf("namespace = %q, want team-b", got)
		}
		if !strings.Contains(errOut, "namespace: team-a -> team-b") {
			t.Errorf("add --replace did not show the change:\n%s", errOut)
		}
	})
}

// TestAddTakesTheCAFileAsProfileDoes: --ca-file may hold PEM or base64 PEM
// (a kubeconfig's certificate-authority-data pasted into a file), as
// `profile --ca-file` takes it; the registry holds the PEM either way.
func TestAddTakesTheCAFileAsProfileDoes(t *testing.T) {
	f := cmdtest.NewAddFixture(t)
	pemData, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	b64 := filepath.Join(t.TempDir(), "ca.b64")
	if err := os.WriteFile(b64, []byte(base64.StdEncoding.EncodeToString(pemData)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := f.Args("c")
	for i := range args {
		if args[i] == f.CAFile {
			args[i] = b64
		}
	}
	if _, errOut, err := cmdtest.RunWithEnv(t, f.Env, NewCmdAdd, args...); err != nil {
		t.Fatalf("add with a base64 --ca-file: %v\n%s", err, errOut)
	}
	if got := f.Registered(t, "c").CertificateAuthorityData; !bytes.Equal(got, pemData) {
		t.Errorf("registered CA data = %q, want the PEM", got)
	}
}
