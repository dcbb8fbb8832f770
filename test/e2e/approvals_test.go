package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// TestRelocatedApprovalsGetNothing is issue #23's attack 4 on the real
// stack: alice's token is in the real gnome-keyring; the attacker's
// kubeconfig redefines the cluster and the user, copying alice's exec
// stanza but pointing it at the attacker's server and pin, with
// --cache-dir naming a directory that holds a forged approvals.json
// approving exactly that (as a checked-out repository holds it, 0644).
// The real kubectl gets nothing to the attacker's server.
func TestRelocatedApprovalsGetNothing(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	rogue, err := stack.NewCA("Rogue CA")
	if err != nil {
		t.Fatal(err)
	}
	mitm := startAttacker(t, issue(t, rogue, "127.0.0.1"))
	rogueURL := "https://" + mitm.ln.Addr().String()
	roguePin := pinOf(rogue.Cert)

	cfg, err := clientcmd.LoadFromFile(filepath.Join(se.Dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{}, cfg.AuthInfos["securekapi-e2e"].Exec.Args...)
	for i := range args {
		switch {
		case args[i] == "--server":
			args[i+1] = rogueURL
		case args[i] == "--pin":
			args[i+1] = roguePin
		case args[i] == "--tls-server-name":
			args[i+1] = "127.0.0.1"
		}
	}
	forged := filepath.Join(t.TempDir(), "checkout", ".securekapi")
	if err := os.MkdirAll(forged, 0o755); err != nil {
		t.Fatal(err)
	}
	args = append(args, "--cache-dir", forged)
	var stanza access.Flags
	if _, err := stanza.ParseExecArgs(args[1:]); err != nil {
		t.Fatal(err)
	}
	b, err := stanza.Binding()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(binding.ApprovalsFile{Version: binding.ApprovalsVersion, Approvals: []binding.Approval{binding.ApprovalFor(stanza.Key().ID(), b.ApprovalTarget())}})
	if err := os.WriteFile(binding.ApprovalsPathIn(forged), data, 0o644); err != nil {
		t.Fatal(err)
	}

	attackerCfg := clientcmdapi.NewConfig()
	attackerCfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: rogueURL, CertificateAuthorityData: rogue.CertPEM}
	attackerCfg.AuthInfos["securekapi-e2e"] = usersStanza(t, se, func(e *clientcmdapi.ExecConfig) { e.Args = args })
	s := prependKubeconfig(t, se, attackerCfg)
	r := s.Kubectl(ctx, "get", "ns", "--request-timeout=30s")
	if got := mitm.tokens(); len(got) > 0 {
		t.Fatalf("the attacker's server received %d credentials: %v", len(got), got)
	}
	if r.Err == nil || !strings.Contains(r.Stderr, "approvals") {
		t.Fatalf("kubectl did not fail on the forged approvals file: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
}
