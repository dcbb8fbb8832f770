package credentialcmd

import (
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestCredentialRejectsAnAbsurdExpiryMargin: a margin longer than any token
// lives, or a negative one, is a typo to report, not a setting to obey.
func TestCredentialRejectsAnAbsurdExpiryMargin(t *testing.T) {
	env := map[string]string{
		"KUBERNETES_EXEC_INFO": `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`,
		"SECUREKAPI_CACHE_DIR": t.TempDir(), "SECUREKAPI_TOKEN_CACHE": "none",
	}
	base := []string{"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl"}
	for margin, bad := range map[string]bool{"100000h": true, "-1m": true, "25h": true, "5m": false, "0s": false} {
		out, _, err := cmdtest.RunWithEnv(t, env, NewCmdCredential, append([]string{"--expiry-margin", margin}, base...)...)
		mentioned := err != nil && strings.Contains(err.Error(), "--expiry-margin "+margin)
		if bad && (!mentioned || !strings.Contains(err.Error(), "between 0s and 24h0m0s") || out != "") {
			t.Errorf("--expiry-margin %s: err = %v, stdout %q", margin, err, out)
		}
		if !bad && err != nil && strings.Contains(err.Error(), "--expiry-margin") {
			t.Errorf("--expiry-margin %s refused: %v", margin, err)
		}
	}
}
