package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// hydraSession is a CI job that gets its token from the stack's real hydra
// by client credentials, the secret in KAPI_CLIENT_SECRET.
func hydraSession(t *testing.T, client stack.HydraClient, secret string) *stack.Session {
	t.Helper()
	ctx := context.Background()
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.AddCluster(ctx, "e2e"); err != nil {
		t.Fatal(err)
	}
	if r := se.Securekapi(ctx, "use", "e2e", "--approve", "--ci-grant", "client-credentials", "--ci-issuer-url", shared.Hydra.IssuerURL,
		"--ci-issuer-ca-file", shared.Hydra.CAFile, "--ci-client-id", client.ID, "--audience", stack.HydraAudience,
		"--client-secret-env", "KAPI_CLIENT_SECRET"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	se.Env = append(se.Env, "CI=true", "KAPI_CLIENT_SECRET="+secret)
	return se
}

// TestClientCredentialsAgainstHydra: RFC 6749 4.4 against the real ory/hydra
// v2.3.0, which kube-apiserver trusts through the authentication
// configuration `expose authn-config` wrote: the real kubectl lists
// namespaces as the client, with the secret read from a named variable; a
// later job on the same runner without the secret gets nothing from the
// cache; a wrong secret is refused clearly, and no secret is printed.
func TestClientCredentialsAgainstHydra(t *testing.T) {
	ctx := context.Background()
	client := stack.HydraClient{ID: "ci-deployer", Secret: "ci-deployer-secret-" + strings.Repeat("x", 16), Audience: []string{stack.HydraAudience}}
	if err := shared.Hydra.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	grantReaders(t, stack.HydraGroup)
	se := hydraSession(t, client, client.Secret)
	w := kubectlWhoami(t, se)
	if u := w.Status.UserInfo.Username; !strings.HasPrefix(u, "ci:") || !strings.HasSuffix(u, ":"+client.ID) || !contains(w.Status.UserInfo.Groups, stack.HydraGroup) {
		t.Fatalf("whoami = %+v, want the client %s in %s", w.Status.UserInfo, client.ID, stack.HydraGroup)
	}
	r := se.Kubectl(ctx, "get", "ns", "-o", "name")
	if r.Err != nil || !strings.Contains(r.Stdout, "namespace/default") {
		t.Fatalf("kubectl get ns: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	if l := se.Securekapi(ctx, "login", "e2e"); l.Err != nil || !strings.Contains(l.Stderr, "subject: "+client.ID) || strings.Contains(l.Stderr, client.Secret) {
		t.Fatalf("login: %v\n%s", l.Err, l.Stderr)
	}

	// A later job on the same runner, its cache kept, whose secret
	// variable is not even set: it gets nothing from the cache (the
	// cached token carries the fingerprint of the first job's secret).
	t.Run("a later job without the secret", func(t *testing.T) {
		later := *se
		later.Env = append(append([]string(nil), se.Env...), "KAPI_CLIENT_SECRET=")
		r := later.Kubectl(ctx, "get", "ns", "-o", "name")
		if r.Err == nil || r.Stdout != "" || !strings.Contains(r.Stderr, "KAPI_CLIENT_SECRET") {
			t.Fatalf("kubectl without the secret, after a job with it: %v\nstdout %q\n%s", r.Err, r.Stdout, r.Stderr)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		bad := "wrong-secret-" + strings.Repeat("y", 16)
		s := hydraSession(t, client, bad)
		r := s.Kubectl(ctx, "get", "ns")
		if r.Err == nil || !strings.Contains(r.Stderr, "invalid_client") || !strings.Contains(r.Stderr, "client credentials for client "+client.ID) {
			t.Fatalf("kubectl with a wrong secret: %v\n%s", r.Err, r.Stderr)
		}
		if strings.Contains(r.Stderr, bad) || strings.Contains(r.Stderr, client.Secret) || r.Stdout != "" {
			t.Fatalf("the secret or data reached the output:\n%s%s", r.Stdout, r.Stderr)
		}
	})
}
