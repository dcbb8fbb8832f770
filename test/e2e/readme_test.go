package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// TestReadmeLaptopExample follows the README's laptop example to the letter:
// `add` with no --oidc-extra-scope (only what this stack needs beyond it: the
// endpoint is reached by IP, and Dex has a private CA), then use, login and
// kubectl. The stack's kube-apiserver maps users by the email claim, so this
// ended in Unauthorized while add requested openid only.
func TestReadmeLaptopExample(t *testing.T) {
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pin := se.Securekapi(ctx, "pin", shared.EndpointURL, "--tls-server-name", stack.EndpointServerName)
	if pin.Err != nil {
		t.Fatalf("pin: %v\n%s", pin.Err, pin.Stderr)
	}
	add := se.Securekapi(ctx, "add", "cluster-a", "--server", shared.EndpointURL, "--tls-server-name", stack.EndpointServerName,
		"--pin", strings.TrimSpace(pin.Stdout),
		"--oidc-issuer-url", shared.IssuerURL, "--oidc-client-id", shared.ClientID, "--oidc-ca-file", shared.DexCAFile)
	if add.Err != nil {
		t.Fatalf("add: %v\n%s", add.Err, add.Stderr)
	}
	if !strings.Contains(add.Stderr, "requesting email and groups") {
		t.Errorf("add did not say which scopes it chose:\n%s", add.Stderr)
	}
	if r := se.Securekapi(ctx, "use", "cluster-a"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	// The README's `login cluster-a` runs on a terminal, which approves the
	// cluster for single sign-on; here stdin is no terminal, so --approve
	// stands in for it.
	if r := se.Securekapi(ctx, "login", "cluster-a", "--approve", "--browser-command", se.BrowserCommand()); r.Err != nil {
		t.Fatalf("login: %v\n%s", r.Err, r.Stderr)
	}
	w := kubectlWhoami(t, se)
	if w.Status.UserInfo.Username != stack.Reader.Email || !contains(w.Status.UserInfo.Groups, stack.ReaderGroup) {
		t.Fatalf("API server saw %+v, want %s in %s", w.Status.UserInfo, stack.Reader.Email, stack.ReaderGroup)
	}
}
