package kubeapi

import (
	"context"
	"errors"
	"net"
	"net/http"

	"k8s.io/client-go/rest"

	"github.com/securekapi/securekapi/pkg/trust"
)

// Pinned is a connection to the API server a token is bound to, for
// doctor: not kubectl's view of the cluster (the kubeconfig entry may have
// been overridden), but the binding's.
type Pinned struct {
	// Server is the API server's URL.
	Server string
	// Policy is what the server's chain must satisfy on every handshake:
	// the CA bundle, the pins, the bound name and the clock.
	Policy trust.Policy
	// DialContext reaches Server (through a tunnel, or the proxy kubectl
	// takes); nil dials directly. The transport itself picks no proxy:
	// the caller's dialer decides the path, and the pinned handshake runs
	// over whatever it returns.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Token, when set, is sent as the bearer token on every request.
	Token string
}

// NewPinned builds the client for p. Every connection it opens verifies
// its own handshake with p.Policy.TLSConfig (the pins and the bound name),
// and it refuses to carry a token under a policy without pins or a CA
// bundle: that would be a binding nobody checked. Its requests are never
// retried: a probe reports what the hop did the first time.
func NewPinned(p Pinned) (*REST, error) {
	if p.Token != "" && (len(p.Policy.Pins) == 0 || len(p.Policy.CABundle) == 0) {
		return nil, errors.New("no token may be sent to " + p.Server + ": its binding (pinned CA and name) was not checked")
	}
	// client-go refuses TLS options beside a custom transport: the CA and
	// the name are in the tls.Config. The zero transport speaks HTTP/1.1
	// only, which the upgrade probe needs. No keep-alive: each probe meets
	// the hop afresh, and through a tunnel an idle connection is an open
	// stream the loopback proxy would wait out when it shuts down.
	transport := &http.Transport{TLSClientConfig: p.Policy.TLSConfig(), DialContext: p.DialContext, DisableKeepAlives: true}
	c, err := NewREST(&rest.Config{Host: p.Server, Transport: transport, BearerToken: p.Token})
	if err != nil {
		return nil, err
	}
	c.probe = true
	return c, nil
}
