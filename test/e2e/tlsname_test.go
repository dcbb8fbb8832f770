package e2e

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// networkPath stands for the network between the user and the endpoint: a
// TCP relay at its own address, which the user's cluster is registered at,
// forwarding to the real endpoint until an attacker on that path takes it
// over (divert). From then on every new connection goes to the attacker,
// as it would for someone who controls the route or the name.
type networkPath struct {
	ln   net.Listener
	mu   sync.Mutex
	mitm *attacker
}

func startNetworkPath(t *testing.T, target string) *networkPath {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &networkPath{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go acceptEach(ln, func(conn net.Conn) {
		p.mu.Lock()
		mitm := p.mitm
		p.mu.Unlock()
		if mitm != nil {
			mitm.serve(conn)
			return
		}
		relay(conn, target)
	})
	return p
}

func (p *networkPath) URL() string { return "https://" + p.ln.Addr().String() }

func (p *networkPath) divert(mitm *attacker) {
	p.mu.Lock()
	p.mitm = mitm
	p.mu.Unlock()
}

// relay copies bytes both ways between conn and target: TLS runs end to
// end, as through any router.
func relay(conn net.Conn, target string) {
	defer conn.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(up, conn)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(conn, up)
	conn.(*net.TCPConn).CloseWrite()
	<-done
}

// setArg is args with flag's value set to value (appended when absent).
func setArg(args []string, flag, value string) []string {
	out := append([]string{}, args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == flag {
			out[i+1] = value
			return out
		}
	}
	return append(out, flag, value)
}

// TestTLSNameIsPartOfTheApproval is issue #23's attack 2 on the real stack.
// Alice approved and uses her cluster, registered at an address on a
// network path the attacker can take over. The attacker holds a
// certificate from the pinned enterprise CA for another name,
// evil.example, so every TLS check kubectl makes passes when it verifies
// that name. The approval must cover the name kubectl verifies: neither a
// third-party profile nor a stanza that changes only the name gets alice's
// login to the attacker.
//
// On d9086b3's binaries (approvals covered identity, server and pins
// only) both cases failed: the attacker received alice's token 6 times
// from one kubectl call in each, and the profile was imported ("Registered
// evil") and used ("Switched to evil") with no prompt and no --approve.
func TestTLSNameIsPartOfTheApproval(t *testing.T) {
	endpoint := strings.TrimPrefix(shared.EndpointURL, "https://")
	path := startNetworkPath(t, endpoint)
	se := newSessionVia(t, stack.Reader, path.URL(), "email", "groups")
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("whoami on the approved cluster = %+v", w.Status.UserInfo)
	}
	ctx := context.Background()
	evilLeaf := issue(t, shared.EnterpriseCA, "evil.example")
	// What the refusal names: the approval's name against kubectl's.
	notCovered := `but not as this kubeconfig has it: the approval is for the certificate name "` + stack.EndpointServerName +
		`", this kubeconfig verifies "evil.example"`

	// The attacker's stanza is alice's with only --tls-server-name
	// changed; the cluster entry names the same server and CA, the new
	// name, and a proxy-url to the attacker, who terminates TLS.
	t.Run("stanza with another tls-server-name and a proxy-url", func(t *testing.T) {
		mitm := startAttacker(t, evilLeaf)
		attackerCfg := clientcmdapi.NewConfig()
		attackerCfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: path.URL(), TLSServerName: "evil.example",
			CertificateAuthorityData: shared.EnterpriseCA.CertPEM, ProxyURL: mitm.URL()}
		attackerCfg.AuthInfos["securekapi-e2e"] = usersStanza(t, se, func(e *clientcmdapi.ExecConfig) {
			e.Args = setArg(e.Args, "--tls-server-name", "evil.example")
		})
		r := prependKubeconfig(t, se, attackerCfg).Kubectl(ctx, "get", "ns", "--context", "e2e", "--request-timeout=30s")
		if got := mitm.tokens(); len(got) > 0 {
			t.Fatalf("the attacker received %d credentials: %v", len(got), got)
		}
		if r.Err == nil || !strings.Contains(r.Stderr, notCovered) {
			t.Fatalf("kubectl did not fail saying the approval does not cover the name (want %q): err=%v\n%s%s", notCovered, r.Err, r.Stdout, r.Stderr)
		}
	})

	// A third party's profile reuses alice's server and pins (and her
	// issuer and client) with its own tlsServerName. The attacker now
	// holds the network path, so import's and use's live checks see the
	// evil.example certificate, and pass, as kubectl's TLS does.
	t.Run("third-party profile with its own tlsServerName", func(t *testing.T) {
		mitm := startAttacker(t, evilLeaf)
		path.divert(mitm)
		evil := ssoCluster("evil", path.URL(), shared.EnterpriseCA.CertPEM, pinOf(shared.EnterpriseCA.Cert))
		evil.TLSServerName = "evil.example"
		imp := se.Securekapi(ctx, "import", writeProfile(t, evil))
		use := se.Securekapi(ctx, "use", "evil")
		r := se.Kubectl(ctx, "get", "ns", "--context", "evil", "--request-timeout=30s")
		if got := mitm.tokens(); len(got) > 0 {
			t.Fatalf("the attacker received %d credentials: %v\nimport: %s\nuse: %s", len(got), got, imp.Stderr, use.Stderr)
		}
		// No silent use: import and use each say the cluster is not
		// approved, and how to approve it, since there is no terminal.
		for name, step := range map[string]stack.Result{"import": imp, "use": use} {
			if step.Err != nil || !strings.Contains(step.Stderr, "Not approved: no terminal to ask on") || !strings.Contains(step.Stderr, "verified as evil.example") {
				t.Errorf("%s did not say the cluster, verified as evil.example, is not approved: err=%v\n%s", name, step.Err, step.Stderr)
			}
		}
		if r.Err == nil || !strings.Contains(r.Stderr, notCovered) || !strings.Contains(r.Stderr, "kubectl securekapi login evil") {
			t.Fatalf("kubectl did not fail saying the approval does not cover the name (want %q and the login command): err=%v\n%s%s", notCovered, r.Err, r.Stdout, r.Stderr)
		}
	})
}
