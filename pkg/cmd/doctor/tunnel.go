package doctor

import (
	"context"
	"fmt"
	"net"

	"github.com/securekapi/securekapi/pkg/tunnel"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// checkTunnel starts the loopback proxy when the registered cluster has a
// tunnel, proves the gateway accepts us and reaches the endpoint, and routes
// the checks after it through the tunnel, as kubectl's traffic would go
// under `run` and `proxy`.
func (o *DoctorOptions) checkTunnel(ctx context.Context, st *doctorState) Check {
	return tunnelBesideProxyURL(o.startTunnel(ctx, st), st)
}

func (o *DoctorOptions) startTunnel(ctx context.Context, st *doctorState) Check {
	c, err := cmdutil.RegisteredCluster(o.Registry, st.access.Cluster)
	if err != nil || c.Tunnel == nil {
		return Check{Status: StatusSkip, Detail: "no tunnel configured for this cluster"}
	}
	p, err := o.Tunnels().Start(context.Background(), c, "127.0.0.1:0")
	if err != nil {
		return fail("check the tunnel settings: `kubectl securekapi add "+c.Name+" --tunnel-...`", "%v", err)
	}
	st.cleanup = append(st.cleanup, func() { tunnel.Stop(p) })
	target, err := pinning.Endpoint{URL: c.Server}.Address()
	if err != nil {
		return fail("kubectl securekapi add "+c.Name, "%v", err)
	}
	// The gateway's own answers first, with the diagnosis of a refusal;
	// then the path kubectl takes, through the loopback proxy.
	gw, err := p.CheckGateway(ctx, target)
	if err == nil {
		var conn net.Conn
		if conn, err = p.Dial(ctx, target); err == nil {
			conn.Close()
		}
	}
	if err != nil {
		return fail(tunnel.GatewayFix(err, "is the gateway up, does it accept your client certificate, and does its certificate match --tunnel-ca-file/--tunnel-pin?"), "%v", err)
	}
	st.dial = func(ctx context.Context, _, addr string) (net.Conn, error) { return p.Dial(ctx, addr) }
	st.route = " through the tunnel"
	switch {
	case !gw.ClientCertRequested:
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("gateway %s reached %s without asking for a client certificate: it does not enforce mutual TLS", c.Tunnel.Gateway, target),
			Fix: "tell the platform owner to require client certificates on the gateway (Squid clientca=, stunnel requireCert = yes, HAProxy verify required, nginx ssl_verify_client on)"}
	case gw.ResumptionRefused:
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("gateway %s (%s mode) accepted the client certificate and reached %s, but refuses to resume TLS sessions, so every kubectl connection pays a full handshake", c.Tunnel.Gateway, c.Tunnel.Mode, target),
			Fix: "tell the platform owner to set a TLS session ID context on the gateway (Squid: https_port ... sslcontext=NAME)"}
	}
	return ok("gateway %s (%s mode) accepted the client certificate and reached %s", c.Tunnel.Gateway, c.Tunnel.Mode, target)
}
