package authnconfigcmd

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/handover"
)

func TestNewCmdAuthnConfigFlags(t *testing.T) {
	var got *AuthnConfigOptions
	cmd := newCmdAuthnConfig(cmdtest.Factory(nil), nil, func(o *AuthnConfigOptions) error { got = o; return nil })
	rule := `claims.repository == "org/app"`
	if err := cmdtest.Execute(cmd, "--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl",
		"--audience", "https://kapi.example.com", "--ci", "github", "--ci-rule", rule,
		"--ci", "gitlab=https://gitlab.example.com", "--ci-audience", "gitlab-aud",
		"--api-version", "v1beta1", "-o", "authn.yaml"); err != nil {
		t.Fatal(err)
	}
	h := got.Settings.Human
	if h == nil || h.IssuerURL != "https://login.example.com" || h.ClientID != "kubectl" || h.UsernameClaim != "email" || h.GroupsPrefix != "oidc:" {
		t.Errorf("people's issuer = %+v", h)
	}
	ci := got.Settings.CI
	if len(ci) != 2 || ci[0].Audience != "https://kapi.example.com" || len(ci[0].Rules) != 1 || ci[0].Rules[0] != rule ||
		ci[1].IssuerURL != "https://gitlab.example.com" || ci[1].Audience != "gitlab-aud" {
		t.Errorf("CI issuers = %+v (the first takes --audience, the second its own --ci-audience)", ci)
	}
	if got.Asked == nil || got.Asked.Version != "v1beta1" || got.Output != "authn.yaml" {
		t.Errorf("version %v, output %q", got.Asked, got.Output)
	}

	for args, want := range map[string]string{
		"--from-file x.yaml --ci github": "--from-file checks an existing file",
		"--oidc-client-id kubectl":       "needs both --oidc-issuer-url and --oidc-client-id",
		"--api-version v2 --ci github":   "--api-version",
		"":                               "nothing to configure",
	} {
		cmd := newCmdAuthnConfig(cmdtest.Factory(nil), nil, func(*AuthnConfigOptions) error { t.Errorf("%q ran", args); return nil })
		if err := cmdtest.Execute(cmd, strings.Fields(args)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", args, err, want)
		}
	}
}

// TestEverydayCLIHandsTheWorkOver: without work (the full CLI's command),
// Run looks for securekapi-admin and does nothing itself; missing, the
// error says so and how to reinstall.
func TestEverydayCLIHandsTheWorkOver(t *testing.T) {
	dir := t.TempDir()
	o := &AuthnConfigOptions{IOStreams: cmdtest.Factory(nil).IOStreams, admin: handover.Finder{
		Program:    handover.Admin,
		Executable: func() (string, error) { return filepath.Join(dir, "securekapi"), nil },
		LookPath:   func(string) (string, error) { return "", exec.ErrNotFound },
		Getenv:     func(string) string { return "" },
	}}
	var missing *handover.ErrMissing
	err := o.Run(context.Background())
	if !errors.As(err, &missing) || missing.Program != handover.Admin || !strings.Contains(err.Error(), "kubectl krew upgrade securekapi") {
		t.Fatalf("Run = %v, want securekapi-admin missing", err)
	}
}
