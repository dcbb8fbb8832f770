package localproxy

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"time"
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
	conn.SetDeadline(deadlineOf(ctx))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	auth := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(proxyUser+":"+p.cfg.Credential)) + "\r\n"
	early, err := sendConnect(conn, target, auth, "the loopback proxy")
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	if len(early) > 0 {
		return &prefixedConn{Conn: conn, prefix: early}, nil
	}
	return conn, nil
}
