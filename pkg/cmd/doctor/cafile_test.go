package doctor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

// TestDoctorSaysACAFileIsNotBound: a cluster whose CA comes from a file
// gets no token (kubectl reads the file again after the plugin's check);
// doctor says that, and how to fix it, not that kubectl would trust the
// system roots (issue #23).
func TestDoctorSaysACAFileIsNotBound(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, cmdtest.NewPair(t, nil, "Enterprise CA").CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://kapi.example.com
    certificate-authority: ` + caFile + `
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubectl-securekapi
      args: [credential, --cluster-name, c, --oidc-issuer-url, https://dex.example.com, --oidc-client-id, kubectl, --server, https://kapi.example.com, --pin, "sha256:` + strings.Repeat("ab", 32) + `"]
      provideClusterInfo: true
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, _ := cmdtest.Run(t, kubeconfig, NewCmdDoctor, "-o", "json", "--quick")
	var checks []Check
	if err := json.Unmarshal([]byte(out), &checks); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	c := checks[0]
	if c.Name != StepKubeconfig || c.Status != StatusFail || !strings.Contains(c.Detail, "takes its CA from the file "+caFile) ||
		strings.Contains(c.Detail, "system") || !strings.Contains(c.Fix, "kubectl securekapi use c") {
		t.Fatalf("the kubeconfig check: %+v", c)
	}
}
