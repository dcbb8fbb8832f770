package localproxy

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"sync/atomic"
)

// sessionCache holds the gateway's TLS sessions so repeated tunnels resume
// instead of paying a full handshake. Some gateways refuse every resumed
// handshake: OpenSSL does when it verifies client certificates and has no
// session ID context (Squid without sslcontext=). Once one has, the cache
// stops offering sessions for the rest of the process.
type sessionCache struct {
	cache   tls.ClientSessionCache
	refused atomic.Bool
	logOnce sync.Once
}

func newSessionCache() *sessionCache {
	return &sessionCache{cache: tls.NewLRUClientSessionCache(0)}
}

// forHandshake is the cache one handshake uses; it records in info whether
// it offered a session. Nil (no resumption) once the gateway refused one.
func (c *sessionCache) forHandshake(info *handshakeInfo) tls.ClientSessionCache {
	if c.refused.Load() {
		return nil
	}
	return offerRecorder{ClientSessionCache: c.cache, info: info}
}

// drop forgets the session cached for serverName (crypto/tls keys its
// cache by the server name when one is set, as ours always is).
func (c *sessionCache) drop(serverName string) { c.cache.Put(serverName, nil) }

// refuse stops offering sessions and says so once, at debug level: the
// tunnels work, each with a full handshake.
func (c *sessionCache) refuse(log *slog.Logger, gateway string, cause error) {
	c.refused.Store(true)
	c.logOnce.Do(func() {
		log.Debug("gateway refused to resume a TLS session; using full handshakes from now on",
			"gateway", gateway, "error", cause,
			"hint", "set a TLS session ID context on the gateway (Squid: https_port ... sslcontext=NAME) so it can resume sessions")
	})
}

// Refused reports whether the gateway refused a resumed handshake.
func (c *sessionCache) Refused() bool { return c.refused.Load() }

// offerRecorder notes when crypto/tls takes a session to offer.
type offerRecorder struct {
	tls.ClientSessionCache
	info *handshakeInfo
}

func (r offerRecorder) Get(key string) (*tls.ClientSessionState, bool) {
	s, ok := r.ClientSessionCache.Get(key)
	if ok && s != nil {
		r.info.offeredSession = true
	}
	return s, ok
}

// GatewayCheck is what CheckGateway learned about the gateway.
type GatewayCheck struct {
	// ClientCertRequested: the gateway asked for our client certificate.
	// A gateway that does not is not enforcing mutual TLS.
	ClientCertRequested bool
	// Resumed: the second tunnel resumed the first one's TLS session.
	Resumed bool
	// ResumptionRefused: the gateway refused to resume a session. Tunnels
	// work, each with a full handshake.
	ResumptionRefused bool
}

// CheckGateway opens two tunnels to target straight through the gateway,
// as kubectl's first two connections would, and closes them. An error is
// the one kubectl's tunnel would get: a *GatewayError when the gateway
// refused us.
func (p *Proxy) CheckGateway(ctx context.Context, target string) (GatewayCheck, error) {
	var check GatewayCheck
	for i := range 2 {
		gw, err := p.dialGateway(ctx, target)
		if err != nil {
			return check, err
		}
		resumed := gw.conn.ConnectionState().DidResume
		gw.conn.Close()
		if i == 0 {
			// A resumed first tunnel had its certificate asked for when
			// its session began.
			check.ClientCertRequested = gw.info.certRequested || resumed
		} else {
			check.Resumed = resumed
		}
	}
	check.ResumptionRefused = p.sessionCache.Refused()
	return check, nil
}
