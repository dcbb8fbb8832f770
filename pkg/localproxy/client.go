package localproxy

import (
	"context"
	"fmt"
	"net"

	"github.com/securekapi/securekapi/pkg/proxydial"
)

// Dial opens a tunnel to target through the proxy exactly as kubectl does:
// a loopback connection to the proxy, CONNECT with the run's credential,
// then the gateway. Commands use it to check the endpoint's chain (use,
// add, doctor) along the path kubectl will take, so a check never succeeds
// by a route kubectl cannot use.
func (p *Proxy) Dial(ctx context.Context, target string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", p.listener.Addr().String())
	if err != nil {
		return nil, fmt.Errorf("dial the loopback proxy: %w", err)
	}
	return proxydial.Connect(ctx, conn, target, proxydial.BasicAuth(proxyUser, p.cfg.Credential), "the loopback proxy")
}
