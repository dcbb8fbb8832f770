package e2e

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// TestTunnelThroughCorporateProxy: a user whose office network only lets
// them out through a forward proxy reaches the access gateway through it
// (HTTPS_PROXY), and NO_PROXY sends the gateway connection around it. The
// corporate proxy is a real Squid on a plain http_port that allows CONNECT
// to the gateway only; the gateway is stunnel (direct mode), addressed by
// the name on its certificate, which only the corporate proxy can resolve.
func TestTunnelThroughCorporateProxy(t *testing.T) {
	ctx := context.Background()
	gw := startGateway(t, stack.Stunnel)
	_, port, _ := net.SplitHostPort(gw.Addr)
	gatewayByName := net.JoinHostPort(stack.GatewayServerName, port)
	corp, err := shared.StartCorporateProxy(ctx, gatewayByName)
	if err != nil {
		t.Fatalf("start the corporate proxy: %v", err)
	}
	t.Cleanup(corp.Close)

	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	se.Env = append(se.Env, "HTTPS_PROXY=http://"+corp.Addr, "NO_PROXY=")
	flags := tunnelFlags(gw, gw.ClientCertFile, gw.ClientKeyFile)
	for i, f := range flags {
		if f == gw.Addr {
			flags[i] = gatewayByName
		}
	}
	// add checks the endpoint through the tunnel, so through the proxy too.
	if err := se.AddCluster(ctx, "e2e", flags...); err != nil {
		t.Fatalf("add through the corporate proxy: %v\nsquid access log:\n%s", err, corp.AccessLog())
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		t.Fatalf("use: %v\n%s", r.Err, r.Stderr)
	}
	browserLogin(t, se)

	before := squidTunnels(corp, gatewayByName)
	r := se.Securekapi(ctx, "run", "e2e", "--", "kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if r.Err != nil || r.Stdout != stack.Reader.Email {
		t.Fatalf("run -- kubectl auth whoami through the corporate proxy: %v\n%q\n%s\nsquid access log:\n%s", r.Err, r.Stdout, r.Stderr, corp.AccessLog())
	}
	// Squid logs a tunnel when it closes.
	deadline := time.Now().Add(10 * time.Second)
	for squidTunnels(corp, gatewayByName) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the corporate proxy logged no tunnel to %s: kubectl did not go through it\n%s", gatewayByName, corp.AccessLog())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// NO_PROXY names the gateway: the proxy is bypassed, and the gateway's
	// name does not resolve outside the office proxy, so the tunnel fails
	// with a DNS error and the corporate proxy sees nothing new.
	bypass := *se
	bypass.Env = append(append([]string{}, se.Env...), "NO_PROXY="+stack.GatewayServerName)
	before = squidTunnels(corp, gatewayByName)
	r = bypass.Securekapi(ctx, "run", "e2e", "--", "kubectl", "get", "ns", "--request-timeout=20s")
	if r.Err == nil {
		t.Fatalf("with NO_PROXY=%s kubectl still got through:\n%s", stack.GatewayServerName, r.Stdout)
	}
	t.Logf("with NO_PROXY naming the gateway, kubectl says:\n%s", r.Stderr)
	if !strings.Contains(r.Stderr, "no such host") && !strings.Contains(r.Stderr, "lookup "+stack.GatewayServerName) {
		t.Errorf("with NO_PROXY the gateway dial should fail on the name, not elsewhere:\n%s", r.Stderr)
	}
	if n := squidTunnels(corp, gatewayByName); n != before {
		t.Errorf("the corporate proxy saw %d new tunnels although NO_PROXY names the gateway", n-before)
	}
}

// squidTunnels counts the CONNECTs to target a Squid completed (it logs a
// tunnel when it closes).
func squidTunnels(squid *stack.Gateway, target string) int {
	n := 0
	for _, line := range strings.Split(squid.AccessLog(), "\n") {
		if strings.Contains(line, "TCP_TUNNEL/200") && strings.Contains(line, "CONNECT "+target) {
			n++
		}
	}
	return n
}
