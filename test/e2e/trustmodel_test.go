package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// kubectl runs the real kubectl with an isolated HOME and the given env.
func kubectl(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestTrustModel proves the point of the secondary endpoint: trusting the
// enterprise CA (and only it) reaches the API server; the system roots and
// the cluster's own random CA do not.
func TestTrustModel(t *testing.T) {
	s := shared
	empty := filepath.Join(t.TempDir(), "empty-kubeconfig")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--kubeconfig=" + empty, "--server=" + s.EndpointURL,
		"--tls-server-name=" + stack.EndpointServerName, "--token=" + s.AdminToken, "--request-timeout=10s"}

	t.Run("pinned to the enterprise CA succeeds", func(t *testing.T) {
		out, err := kubectl(t, nil, append(base, "--certificate-authority="+s.EnterpriseCAFile, "get", "ns", "-o", "name")...)
		if err != nil {
			t.Fatalf("kubectl through the endpoint failed: %v\n%s", err, out)
		}
		if !strings.Contains(out, "namespace/default") {
			t.Fatalf("expected namespace/default through HAProxy, got:\n%s", out)
		}
	})
	t.Run("system roots fail", func(t *testing.T) {
		out, err := kubectl(t, nil, append(base, "get", "ns")...)
		if err == nil || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Fatalf("expected an unknown-authority failure with the system roots, got err=%v:\n%s", err, out)
		}
	})
	t.Run("cluster CA fails against the endpoint", func(t *testing.T) {
		out, err := kubectl(t, nil, append(base, "--certificate-authority="+s.ClusterCAFile, "get", "ns")...)
		if err == nil || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Fatalf("expected the cluster CA to be refused by the endpoint, got err=%v:\n%s", err, out)
		}
	})
	t.Run("the endpoint re-encrypts to kube-apiserver, not a mock", func(t *testing.T) {
		// The admin identity only exists in kube-apiserver's token file.
		out, err := kubectl(t, nil, append(base, "--certificate-authority="+s.EnterpriseCAFile, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")...)
		if err != nil || strings.TrimSpace(out) != "e2e-admin" {
			t.Fatalf("whoami through HAProxy: err=%v out=%q", err, out)
		}
	})
}
