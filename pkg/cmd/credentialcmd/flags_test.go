package credentialcmd

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdCredentialFlags(t *testing.T) {
	ca := cmdtest.NewPair(t, nil, "cluster CA")
	pin := cmdtest.PinOf(ca)
	env := map[string]string{"KUBERNETES_EXEC_INFO": fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",`+
		`"spec":{"interactive":false,"cluster":{"server":"https://kapi.example.com","certificate-authority-data":%q}}}`, base64.StdEncoding.EncodeToString(ca.CertPEM))}
	var got *CredentialOptions
	cmd := newCmdCredential(cmdtest.Factory(env), func(o *CredentialOptions) error { got = o; return nil })
	err := cmdtest.Execute(cmd, "--cluster-name", "cluster-a", "--oidc-issuer-url", "https://dex.example.com", "--oidc-client-id", "kubectl",
		"--server", "https://kapi.example.com", "--pin", pin)
	if err != nil {
		t.Fatal(err)
	}
	if got.Access.Cluster != "cluster-a" || got.Access.Server != "https://kapi.example.com" || !slices.Equal(got.Access.Pins, []string{pin}) ||
		got.request == nil || got.request.Interactive || got.binding.Server != "https://kapi.example.com" {
		t.Errorf("options = %+v", got)
	}
}

// TestBrowserCommandInAStanzaIsRefused: a login started by kubectl opens
// the browser, so --browser-command in the stanza would run a command chosen
// by whoever wrote the kubeconfig. It is refused before any token is read.
func TestBrowserCommandInAStanzaIsRefused(t *testing.T) {
	ca := cmdtest.NewPair(t, nil, "cluster CA")
	env := map[string]string{"KUBERNETES_EXEC_INFO": fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",`+
		`"spec":{"interactive":true,"cluster":{"server":"https://kapi.example.com","certificate-authority-data":%q}}}`, base64.StdEncoding.EncodeToString(ca.CertPEM))}
	ran := false
	cmd := newCmdCredential(cmdtest.Factory(env), func(*CredentialOptions) error { ran = true; return nil })
	err := cmdtest.Execute(cmd, "--cluster-name", "cluster-a", "--oidc-issuer-url", "https://dex.example.com", "--oidc-client-id", "kubectl",
		"--server", "https://kapi.example.com", "--pin", cmdtest.PinOf(ca), "--browser-command", "sh -c touch${IFS}/tmp/pwned")
	if err == nil || ran || !strings.Contains(err.Error(), "refusing --browser-command") || !strings.Contains(err.Error(), "kubectl securekapi login NAME") {
		t.Fatalf("err = %v, ran %v; want --browser-command refused before Run", err, ran)
	}
}
