package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/connerr"
	"github.com/securekapi/securekapi/pkg/proxydial"
)

// clusterProxy is the proxy kubectl takes to the cluster, as client-go
// picks it: the cluster's proxy-url, else the one HTTP(S)_PROXY and
// NO_PROXY name for the server (http.ProxyFromEnvironment, which never
// proxies loopback), else none. source names where it came from.
func (o *DoctorOptions) clusterProxy(c *clientcmdapi.Cluster) (proxy *url.URL, source string, err error) {
	if c.ProxyURL != "" {
		u, err := parseProxyURL(c.ProxyURL)
		return u, fromKubeconfig, err
	}
	server, err := url.Parse(c.Server)
	if err != nil {
		return nil, "", nil // the dial check reports the server URL
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v := o.Getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := httpproxy.Config{HTTPProxy: env("HTTP_PROXY", "http_proxy"), HTTPSProxy: env("HTTPS_PROXY", "https_proxy"), NoProxy: env("NO_PROXY", "no_proxy")}
	u, err := cfg.ProxyFunc()(server)
	if err != nil || u == nil {
		return nil, "", err
	}
	source = "HTTPS_PROXY"
	if server.Scheme == "http" {
		source = "HTTP_PROXY"
	}
	return u, source, nil
}

const fromKubeconfig = "kubeconfig proxy-url"

// setting is what the user edits to change the proxy, for the fixes.
func (st *doctorState) setting() string {
	if st.proxySource == fromKubeconfig {
		return "the cluster's proxy-url"
	}
	return st.proxySource
}

// parseProxyURL reads the cluster's proxy-url as clientcmd does: kubectl
// refuses the whole cluster entry over a bad one, so doctor does too.
func parseProxyURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error quotes the whole URL, password included.
		return nil, errors.New("proxy-url could not be parsed")
	}
	if err := proxydial.CheckScheme(u); err != nil {
		return nil, err
	}
	return u, nil
}

// viaProxy routes the checks after the dial through the cluster's
// proxy-url, as client-go routes kubectl: an https proxy is verified with
// the cluster's own TLS settings (its CA data and tls-server-name), since
// client-go hands net/http one TLS config for the proxy and the server.
// Pins still apply to the endpoint: every check runs its own handshake
// inside the tunnel.
func (st *doctorState) viaProxy() {
	roots := x509.NewCertPool()
	for _, c := range st.caCerts {
		roots.AddCert(c)
	}
	d := proxydial.Dialer{URL: st.proxyURL,
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: st.cluster.TLSServerName, MinVersion: tls.VersionTLS12}}
	st.dial = d.DialContext
	st.route = fmt.Sprintf(" through proxy %s (%s)", st.proxyURL.Redacted(), st.proxySource)
}

// checkDialViaProxy is the dial check when kubectl goes through the
// cluster's proxy-url: the proxy resolves and dials the endpoint.
func (o *DoctorOptions) checkDialViaProxy(ctx context.Context, st *doctorState, addr string) Check {
	st.viaProxy()
	conn, err := st.dial(ctx, "tcp", addr)
	if err != nil {
		return fail(proxyFix(err, st.proxyURL, st.setting(), addr), "connect %s%s: %v", addr, st.route, err)
	}
	conn.Close()
	return ok("%s accepts connections%s; the proxy resolves and dials it, as for kubectl", addr, st.route)
}

// proxyFix tells a proxy that refused us (fix the proxy-url or the proxy's
// rules) from one that could not reach the endpoint (fix the endpoint or
// the network behind the proxy).
func proxyFix(err error, proxy *url.URL, setting, target string) string {
	name := proxy.Redacted()
	var refused *proxydial.RefusedError
	var unreached *proxydial.DialError
	switch {
	case errors.As(err, &refused) && refused.Code == http.StatusProxyAuthRequired:
		return fmt.Sprintf("proxy %s wants credentials: put them in %s (%s://USER:PASSWORD@%s), which kubectl needs too", name, setting, proxy.Scheme, proxy.Host)
	case errors.As(err, &refused) && refused.Code == http.StatusForbidden:
		return fmt.Sprintf("proxy %s refuses CONNECT to %s: ask its administrators to add it to the proxy's allow list (Squid: http_access, acl ... port)", name, target)
	case errors.As(err, &refused) && refused.Code >= 500:
		return fmt.Sprintf("proxy %s could not reach %s: is the endpoint up, and reachable from the proxy (its DNS and firewall)?", name, target)
	case errors.As(err, &refused):
		return fmt.Sprintf("proxy %s refused the tunnel: check %s and the proxy's rules", name, setting)
	case errors.As(err, &unreached) && connerr.Refused(err):
		return fmt.Sprintf("nothing accepts connections at %s: check the address in %s", proxy.Host, setting)
	case errors.As(err, &unreached) && strings.Contains(err.Error(), "TLS handshake"):
		return fmt.Sprintf("kubectl verifies the https proxy %s with the cluster's certificate-authority-data and tls-server-name: its certificate must pass that check, or use an http:// proxy", name)
	case errors.As(err, &unreached):
		return fmt.Sprintf("proxy %s does not answer: check the address in %s, and that this network reaches it", name, setting)
	case strings.Contains(err.Error(), "authentication failed"):
		return fmt.Sprintf("proxy %s refused the credentials in %s", name, setting)
	}
	return fmt.Sprintf("proxy %s could not open the tunnel to %s: check %s, and that the proxy reaches the endpoint", name, target, setting)
}

// tunnelBesideProxyURL adds to the tunnel check what kubectl does when the
// cluster entry also sets proxy-url: kubectl on this kubeconfig goes
// through that proxy, not the tunnel; `run` and `proxy` write a private
// kubeconfig whose proxy-url is the tunnel. doctor checks the tunnel.
func tunnelBesideProxyURL(c Check, st *doctorState) Check {
	switch {
	case st.proxyURL == nil || st.proxySource != fromKubeconfig || c.Status == StatusFail:
		// HTTPS_PROXY is the loopback proxy's way to the gateway; `run`
		// and `proxy` set proxy-url, which wins over it for kubectl.
		return c
	case c.Status == StatusSkip:
		c.Detail += fmt.Sprintf("; kubectl goes through the kubeconfig's proxy-url %s, and so do the checks below", st.proxyURL.Redacted())
		return c
	}
	c.Status = StatusWarn
	c.Detail += fmt.Sprintf("; but the kubeconfig's cluster sets proxy-url %s, and kubectl on this kubeconfig goes through that proxy, not the tunnel (doctor checked the tunnel, as `kubectl securekapi run`/`proxy` use it)", st.proxyURL.Redacted())
	if c.Fix == "" {
		c.Fix = "run kubectl through the tunnel (`kubectl securekapi run " + st.access.Cluster + " -- kubectl ...`), or remove proxy-url from the cluster entry"
	}
	return c
}
