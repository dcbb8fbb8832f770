package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// setProxyURL sets proxy-url on every cluster of the session's kubeconfig,
// as a user behind an office proxy does (`kubectl config set-cluster
// --proxy-url`), and returns the server URL.
func setProxyURL(t *testing.T, se *stack.Session, proxyURL string) string {
	t.Helper()
	path := filepath.Join(se.Dir, "kubeconfig")
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	server := ""
	for _, c := range cfg.Clusters {
		c.ProxyURL, server = proxyURL, c.Server
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return server
}

// TestDoctorThroughProxyURL: a cluster whose kubeconfig entry sets
// proxy-url to a real forward Squid (plain http_port, CONNECT to the
// endpoint only). doctor passes through it, and Squid's access log shows
// its tunnels, as it shows kubectl's; with proxy-url at a closed port,
// doctor fails at the dial, naming the proxy's address, where a direct
// connection would have worked.
func TestDoctorThroughProxyURL(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	server := setProxyURL(t, se, "")
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	corp, err := shared.StartCorporateProxy(ctx, target)
	if err != nil {
		t.Fatalf("start the forward proxy: %v", err)
	}
	t.Cleanup(corp.Close)
	setProxyURL(t, se, "http://"+corp.Addr)

	before := squidTunnels(corp, target)
	checks, passed := runDoctor(t, se, "--quick")
	dial := checkNamed(checks, "DNS and TCP to the endpoint")
	if !passed || dial.Status != "ok" || !strings.Contains(dial.Detail, "through proxy http://"+corp.Addr+" (kubeconfig proxy-url)") {
		t.Fatalf("doctor through proxy-url: passed=%v, dial %+v\n%+v\nsquid access log:\n%s", passed, dial, checks, corp.AccessLog())
	}
	// The dial, the TLS check, /version and the identity check each open a
	// tunnel; Squid logs one when it closes.
	deadline := time.Now().Add(10 * time.Second)
	for squidTunnels(corp, target) < before+4 {
		if time.Now().After(deadline) {
			t.Fatalf("Squid logged %d tunnels to %s for doctor, want 4\n%s", squidTunnels(corp, target)-before, target, corp.AccessLog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := se.Kubectl(ctx, "get", "ns", "default", "-o", "name"); r.Err != nil {
		t.Errorf("kubectl through the same proxy-url: %v\n%s", r.Err, r.Stderr)
	}

	closed := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	setProxyURL(t, se, "http://"+closed)
	checks, passed = runDoctor(t, se, "--quick")
	dial = checkNamed(checks, "DNS and TCP to the endpoint")
	if passed || dial.Status != "fail" || !strings.Contains(dial.Fix, "nothing accepts connections at "+closed) {
		t.Errorf("doctor with proxy-url at a closed port: passed=%v, dial %+v, want a failure naming the proxy address", passed, dial)
	}
	if r := se.Kubectl(ctx, "get", "ns", "default", "--request-timeout=10s"); r.Err == nil {
		t.Errorf("kubectl got through a proxy-url at a closed port: doctor and kubectl disagree")
	}
}
