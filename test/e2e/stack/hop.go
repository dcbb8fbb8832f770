package stack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

// StartHAProxyHop starts another HAProxy in front of kube-apiserver, from
// the same `expose --via haproxy` output as the main endpoint but on its
// own port and with edit applied to the config (e.g. short idle timeouts).
// It presents the same certificate, so the same pin verifies it. The
// returned stop ends it by its pid; Stop ends it too.
func (s *Stack) StartHAProxyHop(ctx context.Context, name string, edit func(cfg string) string) (endpointURL string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cfg, err := s.ExposeHAProxy(ctx, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", nil, err
	}
	path := s.path(name + ".cfg")
	if err := os.WriteFile(path, []byte(edit(string(cfg))), 0o600); err != nil {
		return "", nil, err
	}
	p, err := startProcess(s.Dir, name, "haproxy", "-db", "-f", path)
	if err != nil {
		return "", nil, err
	}
	s.track(p)
	endpointURL = fmt.Sprintf("https://127.0.0.1:%d", port)
	client := s.httpsClientFor(s.EnterpriseCA.CertPEM, EndpointServerName)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = waitFor(wctx, p, name, func() error {
		resp, err := client.Get(endpointURL + "/version")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/version through %s: %s", name, resp.Status)
		}
		return nil
	})
	if err != nil {
		p.stop(5 * time.Second)
		return "", nil, err
	}
	return endpointURL, func() { p.stop(5 * time.Second) }, nil
}
