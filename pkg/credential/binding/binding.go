package binding

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/execinfo"
	"github.com/securekapi/securekapi/pkg/trust"
)

// Binding ties tokens to one cluster: kubectl must be talking to Server and
// trusting a CA chain that carries one of Pins. kubectl passes what it uses
// in KUBERNETES_EXEC_INFO when the exec stanza sets provideClusterInfo.
type Binding struct {
	Server string
	Pins   []trust.Pin
}

// Check refuses to release a token to a cluster the binding does not name.
func (b Binding) Check(c *execinfo.Cluster) error {
	if b.Server == "" && len(b.Pins) == 0 {
		return errors.New("no token binding configured: pass --server and --pin (`kubectl securekapi use` writes them), so tokens only go to the pinned endpoint")
	}
	if c == nil {
		return errors.New("kubectl sent no cluster info, so securekapi cannot check where the token would go; set `provideClusterInfo: true` in the kubeconfig exec stanza (`kubectl securekapi use NAME` writes it)")
	}
	if c.InsecureSkipTLSVerify {
		return fmt.Errorf("refusing to release a token to %s: the kubeconfig cluster sets insecure-skip-tls-verify", c.Server)
	}
	if b.Server != "" && normalizeServer(c.Server) != normalizeServer(b.Server) {
		return fmt.Errorf("refusing to release a token to %s: it is bound to %s; if this kubeconfig was edited, run `kubectl securekapi use` again", c.Server, b.Server)
	}
	if len(b.Pins) == 0 {
		return nil
	}
	if len(c.CAData) == 0 {
		return fmt.Errorf("refusing to release a token to %s: the kubeconfig cluster has no certificate-authority-data, so kubectl would trust any CA; run `kubectl securekapi use` again", c.Server)
	}
	certs, err := trust.ParsePEMCertificates(c.CAData)
	if err != nil {
		return fmt.Errorf("refusing to release a token to %s: its certificate-authority-data is unreadable: %v", c.Server, err)
	}
	if _, ok := trust.ChainMatchesPins(certs, b.Pins); !ok {
		return fmt.Errorf("refusing to release a token to %s: the CA kubectl trusts for it matches none of the pinned keys %v; run `kubectl securekapi use` again to re-verify the endpoint", c.Server, b.Pins)
	}
	return nil
}

// normalizeServer compares URLs by scheme, host and default port.
func normalizeServer(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.ToLower(raw), "/")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" && strings.EqualFold(u.Scheme, "https") {
		port = "443"
	}
	return strings.ToLower(u.Scheme) + "://" + host + ":" + port + strings.TrimRight(u.Path, "/")
}
