package cmdutil

import (
	"context"
	"net"
	"time"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
	"github.com/securekapi/securekapi/pkg/tunnel"
)

// EndpointTimeout bounds a live endpoint check.
const EndpointTimeout = 10 * time.Second

// CheckEndpoint fetches the endpoint's chain and verifies it against the
// cluster's CA bundle (else the system roots), its name, dates and pins.
// A cluster behind a gateway is checked through a tunnel from tunnels.
func CheckEndpoint(ctx context.Context, now func() time.Time, tunnels tunnel.Env, c *profile.Cluster) (*trust.Verified, error) {
	pins, err := pinning.ParsePins(c.Pins)
	if err != nil {
		return nil, err
	}
	policy := trust.Policy{Pins: pins, Now: now()}
	if len(c.CertificateAuthorityData) > 0 {
		if policy.CABundle, err = trust.ParsePEMCertificates(c.CertificateAuthorityData); err != nil {
			return nil, err
		}
	}
	ep := pinning.Endpoint{URL: c.Server, TLSServerName: c.TLSServerName}
	opts := trust.FetchOptions{Timeout: EndpointTimeout}
	if c.Tunnel != nil {
		// Only reachable through the gateway: check the chain along the
		// path kubectl will take, through a proxy started for this check.
		p, err := tunnels.Start(ctx, c, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer tunnel.Stop(p)
		opts.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) { return p.Dial(ctx, addr) }
	}
	return trust.Check(ctx, ep, policy, opts)
}
