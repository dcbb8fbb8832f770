// Package proxydial opens TCP tunnels through forward proxies: HTTP CONNECT
// (the loopback proxy's way to the gateway, and the gateway's own CONNECT),
// and a kubeconfig cluster's proxy-url (http, https, socks5) dialled the way
// client-go dials it, so doctor's checks take kubectl's path.
//
// It carries no trust decision: whatever runs inside a tunnel (kubectl's
// TLS to the endpoint, doctor's pinned handshake) verifies its peer itself.
package proxydial

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// MaxAnswerHeaderBytes bounds the header of a CONNECT answer.
const MaxAnswerHeaderBytes = 16 << 10

// RefusedError is a proxy's non-2xx answer to CONNECT.
type RefusedError struct {
	// Who names the proxy in the message ("proxy", "gateway").
	Who    string
	Target string
	// Code and Status are the answer's (Status as "403 Forbidden").
	Code   int
	Status string
	// SquidError is Squid's X-Squid-Error header, when it sent one.
	SquidError string
}

func (e *RefusedError) Error() string {
	detail := ""
	if e.SquidError != "" {
		detail = " (X-Squid-Error: " + e.SquidError + ")"
	}
	return fmt.Sprintf("%s refused CONNECT %s: %s%s", e.Who, e.Target, e.Status, detail)
}

// BasicAuth is the Proxy-Authorization header line (CRLF included) for
// user and pass, as net/http sends it for a proxy URL's userinfo.
func BasicAuth(user, pass string) string {
	return "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\n"
}

// Connect asks the HTTP proxy at the other end of conn to CONNECT to
// target, bounded by ctx, and returns the tunnel (closing conn on
// failure). extraHeader is added to the request as is (BasicAuth's line,
// or ""); who names the proxy in errors.
func Connect(ctx context.Context, conn net.Conn, target, extraHeader, who string) (net.Conn, error) {
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	early, err := SendConnect(conn, target, extraHeader, who)
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

// SendConnect sends CONNECT target on conn and reads the answer, which
// must be 2xx (else a *RefusedError). It returns the bytes received beyond
// the answer's header: they belong to whoever reads the tunnel. It sets no
// deadline; Connect does.
func SendConnect(conn net.Conn, target, extraHeader, who string) ([]byte, error) {
	request := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n" + extraHeader + "\r\n"
	if _, err := io.WriteString(conn, request); err != nil {
		return nil, fmt.Errorf("send CONNECT %s: %w", target, err)
	}
	limited := &io.LimitedReader{R: conn, N: MaxAnswerHeaderBytes}
	br := bufio.NewReader(limited)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		if limited.N <= 0 {
			return nil, fmt.Errorf("CONNECT %s: %s answer header exceeds %d bytes", target, who, MaxAnswerHeaderBytes)
		}
		return nil, fmt.Errorf("CONNECT %s: read %s answer: %w", target, who, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &RefusedError{Who: who, Target: target, Code: resp.StatusCode, Status: resp.Status, SquidError: resp.Header.Get("X-Squid-Error")}
	}
	var early []byte
	if n := br.Buffered(); n > 0 {
		early = make([]byte, n)
		io.ReadFull(br, early)
	}
	return early, nil
}

// prefixedConn replays bytes a CONNECT answer carried past its header.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// CloseWrite half-closes the tunnel when the connection under it can.
func (c *prefixedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
