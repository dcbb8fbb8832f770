// Package tunnel reaches a registered cluster that sits behind a mutual-TLS
// access gateway: it turns the cluster's tunnel settings (profile.Tunnel)
// into a loopback proxy (localproxy.Config), starts and stops it, and
// writes the private kubeconfig that routes kubectl through it. run, shell,
// proxy, doctor and the endpoint check all start their tunnels here. The
// gateway modes and their check are localproxy's (localproxy.Mode.Check),
// which the profile and `add` validate with.
package tunnel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/credential/redact"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/localproxy"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// ShutdownGrace is how long open streams (watches, logs -f) get to finish
// when a tunnel stops.
const ShutdownGrace = 5 * time.Second

// Env is what a tunnel takes from the process.
type Env struct {
	// Log gets the gateway's failures (kubectl only shows a 502's status
	// line); the command layer logs them at warn level, every tunnel at -v.
	Log *slog.Logger
	// Secrets learns the proxy's per-run credential, so that no log line
	// or error shows it. Nil remembers nothing.
	Secrets *redact.Secrets
	// Kubeconfig is where the cluster's context is read for a private
	// kubeconfig.
	Kubeconfig *kubeconfig.Store
}

// Config is the loopback proxy for c's tunnel settings, listening on listen
// and allowed to reach c's server only.
func Config(c *profile.Cluster, listen string, log *slog.Logger) (localproxy.Config, error) {
	t := c.Tunnel
	if t == nil {
		return localproxy.Config{}, fmt.Errorf("cluster %s has no tunnel settings; register it with `kubectl securekapi add %s --tunnel-gateway host:port ...`", c.Name, c.Name)
	}
	cert, err := tls.LoadX509KeyPair(t.ClientCertFile, t.ClientKeyFile)
	if err != nil {
		return localproxy.Config{}, fmt.Errorf("tunnel client certificate for %s: %w; check --tunnel-client-cert and --tunnel-client-key", c.Name, err)
	}
	pins, err := pinning.ParsePins(t.GatewayPins)
	if err != nil {
		return localproxy.Config{}, fmt.Errorf("tunnel pins for %s: %w; check --tunnel-pin", c.Name, err)
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
			return localproxy.Config{}, fmt.Errorf("tunnel CA for %s holds no PEM certificates; check --tunnel-ca-file", c.Name)
		}
	}
	target, err := pinning.Endpoint{URL: c.Server}.Address()
	if err != nil {
		return localproxy.Config{}, err
	}
	return localproxy.Config{Listen: listen, Gateway: gw, AllowedTargets: []string{target}, Logger: log}, nil
}

// Start starts the loopback proxy for c's tunnel settings on listen.
func (e Env) Start(ctx context.Context, c *profile.Cluster, listen string) (*localproxy.Proxy, error) {
	cfg, err := Config(c, listen, e.Log)
	if err != nil {
		return nil, err
	}
	p, err := localproxy.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The proxy's per-run credential is a secret like a token: redacted
	// from every log line and error from now on.
	password, _ := p.URL().User.Password()
	e.Secrets.Add(password)
	return p, nil
}

// Stop gives open streams ShutdownGrace, then closes them.
func Stop(p *localproxy.Proxy) {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	_ = p.Shutdown(ctx)
}

// PrivateKubeconfig writes a kubeconfig that holds only the context name,
// current, into a new 0700 temp dir; with a proxyURL the cluster is routed
// through it (a tunnel). The caller removes the dir. The exec stanza is
// kept as `use` wrote it: the server and CA are unchanged, so the token
// binding still holds, and kubectl's TLS to the endpoint runs inside the
// tunnel.
func (e Env) PrivateKubeconfig(name string, proxyURL *url.URL) (dir, path string, err error) {
	cfg, err := e.Kubeconfig.Load()
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

// Open starts the tunnel of the registered cluster c (which must have one
// when requireTunnel is set) on listen and writes its private kubeconfig.
// The tunnel serves until Close, whatever happens to ctx: a signal is for
// the child to answer, and its exit ends the session.
func (e Env) Open(ctx context.Context, c *profile.Cluster, listen string, requireTunnel bool) (*Session, error) {
	s := &Session{Cluster: c}
	var proxyURL *url.URL
	if requireTunnel || c.Tunnel != nil {
		var err error
		if s.Proxy, err = e.Start(context.WithoutCancel(ctx), c, listen); err != nil {
			return nil, err
		}
		proxyURL = s.Proxy.URL()
	}
	var err error
	if s.dir, s.Kubeconfig, err = e.PrivateKubeconfig(c.Name, proxyURL); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the tunnel (open streams get ShutdownGrace) and removes the
// private kubeconfig.
func (s *Session) Close() {
	if s.Proxy != nil {
		Stop(s.Proxy)
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
