package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// startHydra runs a real hydra for one test, with a confidential client
// allowed client credentials for audience "kube".
func startHydra(t *testing.T) (*stack.Hydra, stack.HydraClient) {
	t.Helper()
	ctx := context.Background()
	h, err := stack.StartHydra(ctx, os.Getenv("SECUREKAPI_TOOLS_BIN"), filepath.Join(t.TempDir(), "hydra"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	client := stack.HydraClient{ID: "ci-deployer", Secret: "ci-deployer-secret-" + strings.Repeat("x", 16), Audience: []string{"kube"}}
	if err := h.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	return h, client
}

// TestClientCredentialsAgainstHydra: RFC 6749 4.4 against the real ory/hydra
// v2.3.0: the secret comes from a named variable, the JWT access token is
// verified against hydra's published keys for the audience, and a wrong
// secret is refused clearly without the secret in any output.
func TestClientCredentialsAgainstHydra(t *testing.T) {
	h, client := startHydra(t)
	ctx := context.Background()
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.AddCluster(ctx, "e2e"); err != nil {
		t.Fatal(err)
	}
	if r := se.Securekapi(ctx, "use", "e2e", "--approve", "--ci-grant", "client-credentials", "--ci-issuer-url", h.IssuerURL,
		"--ci-issuer-ca-file", h.CAFile, "--ci-client-id", client.ID, "--audience", "kube", "--client-secret-env", "KAPI_CLIENT_SECRET"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	se.Env = append(se.Env, "CI=true", "KAPI_CLIENT_SECRET="+client.Secret)
	r := se.Securekapi(ctx, "login", "e2e")
	if r.Err != nil || !strings.Contains(r.Stderr, "subject: "+client.ID) || !strings.Contains(r.Stderr, "grant client-credentials") {
		t.Fatalf("login: %v\n%s", r.Err, r.Stderr)
	}
	if strings.Contains(r.Stderr, client.Secret) || r.Stdout != "" {
		t.Fatalf("login printed the secret or data:\n%s%s", r.Stdout, r.Stderr)
	}

	t.Run("wrong secret", func(t *testing.T) {
		bad := "wrong-secret-" + strings.Repeat("y", 16)
		s := *se
		s.Env = append(append([]string{}, se.Env...), "KAPI_CLIENT_SECRET="+bad)
		r := s.Securekapi(ctx, "login", "e2e")
		if r.Err == nil || !strings.Contains(r.Stderr, "invalid_client") || !strings.Contains(r.Stderr, "client credentials for client "+client.ID) {
			t.Fatalf("login with a wrong secret: %v\n%s", r.Err, r.Stderr)
		}
		if strings.Contains(r.Stderr, bad) || strings.Contains(r.Stderr, client.Secret) {
			t.Fatalf("the secret reached stderr:\n%s", r.Stderr)
		}
	})
}
