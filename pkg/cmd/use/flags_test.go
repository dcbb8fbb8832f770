package use

import (
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"

	"github.com/securekapi/securekapi/pkg/credential/grant"
)

func TestNewCmdUseFlags(t *testing.T) {
	env := map[string]string{"SECUREKAPI_CONFIG": "/home/u/.config/securekapi/clusters.yaml"}
	var got *UseOptions
	cmd := newCmdUse(cmdtest.Factory(env), func(o *UseOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "--dry-run", "--token-cache", "file", "--exec-command", "/opt/bin/kubectl-securekapi", "--approve"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "cluster-a" || !got.DryRun || got.Exec.TokenCache != "file" || got.ExecCommand != "/opt/bin/kubectl-securekapi" || !got.Approve || got.Registry == nil || got.Registry.Path != env["SECUREKAPI_CONFIG"] {
		t.Errorf("options = %+v", got)
	}
	// --token-cache is the exec-arg table's row, help included.
	if f := cmd.Flags().Lookup("token-cache"); f == nil || !strings.Contains(f.Usage, "$SECUREKAPI_TOKEN_CACHE, else auto") {
		t.Errorf("--token-cache help does not say its default: %+v", f)
	}
}

// TestNewCmdUseCIFlags: use --ci takes the exec stanza's machine flags
// under their own names, and the CI source as --ci, not --ci-token-source.
func TestNewCmdUseCIFlags(t *testing.T) {
	var got *UseOptions
	cmd := newCmdUse(cmdtest.Factory(nil), func(o *UseOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "--ci", "gitlab", "--ci-grant", "token-exchange", "--audience", "kapi",
		"--ci-token-var", "KAPI_ID_TOKEN", "--ci-token-file", "/var/run/token", "--ci-token-audience", "dex",
		"--token-exchange-connector-id", "gitlab", "--client-secret-file", "/s", "--client-secret-env", "SECRET"); err != nil {
		t.Fatal(err)
	}
	want := grant.Machine{Audience: "kapi", CISource: "gitlab", CITokenVar: "KAPI_ID_TOKEN", CITokenFile: "/var/run/token",
		CITokenAudience: "dex", ExchangeConnectorID: "gitlab", ClientSecretFile: "/s", ClientSecretEnv: "SECRET"}
	if m := got.CI.machine(); m != want {
		t.Errorf("machine settings = %+v\nwant %+v", m, want)
	}
	cmd = newCmdUse(cmdtest.Factory(nil), func(*UseOptions) error { return nil })
	if err := cmdtest.Execute(cmd, "cluster-a", "--ci-token-source", "github"); err == nil || !strings.Contains(err.Error(), "unknown flag") {
		t.Errorf("use took --ci-token-source (its flag is --ci): %v", err)
	}
}
