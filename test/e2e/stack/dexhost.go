package stack

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"time"
)

// StartDexOn starts another Dex like the stack's (the same client, users
// and CA, state in memory) whose issuer is on host, an address of this
// machine. Tests use it where the issuer must not be a loopback address:
// Go's HTTPS_PROXY handling never proxies loopback, and a real IdP is
// reached through the proxy. kube-apiserver does not trust its tokens.
// stop ends it; the stack's Stop does too.
func (s *Stack) StartDexOn(ctx context.Context, host net.IP) (issuerURL string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	hostPort := net.JoinHostPort(host.String(), strconv.Itoa(port))
	name := "dex-" + strconv.Itoa(port)
	leaf, err := s.DexCA.Issue("dex", LeafOptions{IPs: []net.IP{host}})
	if err != nil {
		return "", nil, err
	}
	if err := leaf.WriteFiles(s.path(name+".crt"), s.path(name+".key")); err != nil {
		return "", nil, err
	}
	issuerURL = "https://" + hostPort + "/dex"
	cfg, err := s.dexConfig(dexSite{issuer: issuerURL, listen: hostPort, cert: s.path(name + ".crt"), key: s.path(name + ".key"), storage: "type: memory"})
	if err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(s.path(name+".yaml"), []byte(cfg), 0o600); err != nil {
		return "", nil, err
	}
	p, err := startProcess(s.Dir, name, s.toolsBin+"/dex", "serve", s.path(name+".yaml"))
	if err != nil {
		return "", nil, err
	}
	s.track(p)
	stop = func() { p.stop(10 * time.Second) }
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitForDiscovery(ctx, p, "Dex on "+hostPort, s.httpsClient(s.DexCA.CertPEM), issuerURL); err != nil {
		stop()
		return "", nil, err
	}
	return issuerURL, stop, nil
}

// NonLoopbackIPv4 is an IPv4 address of this machine that is not a
// loopback one, for a server an HTTPS_PROXY applies to.
func NonLoopbackIPv4() (net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.To4(), nil
		}
	}
	return nil, errors.New("this machine has no IPv4 address besides loopback: a test that needs a server an HTTPS_PROXY applies to needs one (any interface that is up)")
}
