package cmdutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/localproxy"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// ShutdownGrace is how long open streams (watches, logs -f) get to finish
// when a tunnel stops.
const ShutdownGrace = 5 * time.Second

// StartTunnel starts the loopback proxy for a cluster's tunnel settings.
// Gateway failures are logged on stderr at warn level (kubectl only shows
// a 502's status line); -v shows every tunnel.
func StartTunnel(ctx context.Context, g *Factory, c *profile.Cluster, listen string) (*localproxy.Proxy, error) {
	t := c.Tunnel
	if t == nil {
		return nil, fmt.Errorf("cluster %s has no tunnel settings; register it with `kubectl securekapi add %s --tunnel-gateway host:port ...`", c.Name, c.Name)
	}
	cert, err := tls.LoadX509KeyPair(t.ClientCertFile, t.ClientKeyFile)
	if err != nil {
		return nil, fmt.Errorf("tunnel client certificate for %s: %w; check --tunnel-client-cert and --tunnel-client-key", c.Name, err)
	}
	pins, err := pinning.ParsePins(t.GatewayPins)
	if err != nil {
		return nil, fmt.Errorf("tunnel pins for %s: %w; check --tunnel-pin", c.Name, err)
	}
	gw := localproxy.Gateway{
		Address:     t.Gateway,
		ServerName:  t.GatewayServerName,
		Pins:        pins,
		Certificate: cert,
		Mode:        localproxy.Mode(t.Mode),
	}
	if len(t.GatewayCAData) > 0 {
		gw.RootCAs = x509.NewCertPool()
		if !gw.RootCAs.AppendCertsFromPEM(t.GatewayCAData) {
			return nil, fmt.Errorf("tunnel CA for %s holds no PEM certificates; check --tunnel-ca-file", c.Name)
		}
	}
	target, err := pinning.Endpoint{URL: c.Server}.Address()
	if err != nil {
		return nil, err
	}
	p, err := localproxy.Start(ctx, localproxy.Config{
		Listen:         listen,
		Gateway:        gw,
		AllowedTargets: []string{target},
		Logger:         g.WarnLogger(),
	})
	if err != nil {
		return nil, err
	}
	// The proxy's per-run credential is a secret like a token: redacted
	// from every log line and error from now on.
	password, _ := p.URL().User.Password()
	g.Secrets.Add(password)
	return p, nil
}

// StopTunnel gives open streams a grace period, then closes them.
func StopTunnel(p *localproxy.Proxy) {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	_ = p.Shutdown(ctx)
}

// PrivateKubeconfig writes a kubeconfig that holds only the cluster's
// context, current, into a new 0700 temp dir; with a proxyURL the cluster
// is routed through it (a tunnel). The caller removes the dir. The exec
// stanza is kept as `use` wrote it: the server and CA are unchanged, so the
// token binding still holds, and kubectl's TLS to the endpoint runs inside
// the tunnel.
func PrivateKubeconfig(g *Factory, name string, proxyURL *url.URL) (dir, path string, err error) {
	cfg, err := g.KubeconfigStore().Load()
	if err != nil {
		return "", "", err
	}
	ctxEntry, ok := cfg.Contexts[name]
	if !ok {
		return "", "", fmt.Errorf("kubeconfig has no context %q; run `kubectl securekapi use %s` first", name, name)
	}
	cluster, user := cfg.Clusters[ctxEntry.Cluster], cfg.AuthInfos[ctxEntry.AuthInfo]
	if cluster == nil || user == nil {
		return "", "", fmt.Errorf("context %q names a missing cluster or user; run `kubectl securekapi use %s` again", name, name)
	}
	routed, prefix := cluster.DeepCopy(), "securekapi-kubeconfig-"
	if proxyURL != nil {
		routed.ProxyURL, prefix = proxyURL.String(), "securekapi-tunnel-"
	}
	out := clientcmdapi.NewConfig()
	out.Clusters[ctxEntry.Cluster] = routed
	out.AuthInfos[ctxEntry.AuthInfo] = user.DeepCopy()
	out.Contexts[name] = ctxEntry.DeepCopy()
	out.CurrentContext = name
	data, err := clientcmd.Write(*out)
	if err != nil {
		return "", "", err
	}
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, "kubeconfig")
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, path, nil
}

// RegisteredCluster loads a cluster from the registry.
func RegisteredCluster(g *Factory, name string) (*profile.Cluster, error) {
	registry, err := g.Registry()
	if err != nil {
		return nil, err
	}
	reg, err := registry.Load()
	if err != nil {
		return nil, err
	}
	c, ok := reg.Find(name)
	if !ok {
		return nil, fmt.Errorf("no cluster %q is registered (registered: %v); add it with `kubectl securekapi add` or `import`", name, reg.Names())
	}
	return c, nil
}

// GatewayFix is the gateway setting to check for err, when the loopback
// proxy diagnosed the gateway's refusal; fallback otherwise.
func GatewayFix(err error, fallback string) string {
	var refused *localproxy.GatewayError
	if errors.As(err, &refused) {
		return refused.Fix
	}
	return fallback
}

// Session is a registered cluster made ready for a child process or a
// user: its private kubeconfig, routed through the cluster's tunnel when
// there is one. Close stops the tunnel and removes the kubeconfig.
type Session struct {
	Cluster *profile.Cluster
	// Proxy is the tunnel's loopback proxy, or nil without a tunnel.
	Proxy *localproxy.Proxy
	// Kubeconfig is the private kubeconfig's path.
	Kubeconfig string
	dir        string
}

// OpenSession starts the tunnel of the registered cluster name (which must
// have one when requireTunnel is set) on listen and writes its private
// kubeconfig. The tunnel serves until Close, whatever happens to ctx: a
// signal is for the child to answer, and its exit ends the session.
func OpenSession(ctx context.Context, g *Factory, name, listen string, requireTunnel bool) (*Session, error) {
	c, err := RegisteredCluster(g, name)
	if err != nil {
		return nil, err
	}
	s := &Session{Cluster: c}
	var proxyURL *url.URL
	if requireTunnel || c.Tunnel != nil {
		if s.Proxy, err = StartTunnel(context.WithoutCancel(ctx), g, c, listen); err != nil {
			return nil, err
		}
		proxyURL = s.Proxy.URL()
	}
	if s.dir, s.Kubeconfig, err = PrivateKubeconfig(g, name, proxyURL); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the tunnel (open streams get ShutdownGrace) and removes the
// private kubeconfig.
func (s *Session) Close() {
	if s.Proxy != nil {
		StopTunnel(s.Proxy)
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
