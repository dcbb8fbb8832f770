package localproxy

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	// lingerTimeout and lingerBytes bound how long and how much we keep
	// reading after an error response, so unread request bytes do not turn
	// our close into a TCP reset that destroys the response in flight.
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 256 << 10
	// maxReasonLen keeps error reasons, which also go into the status line,
	// readable.
	maxReasonLen = 400
)

// rejection is an error answer to the client. kubectl (Go's http.Transport)
// shows only the status line of a failed CONNECT, so the reason goes into the
// reason phrase as well as the body.
type rejection struct {
	status int    // 0: close without answering (client gone or too slow)
	reason string // never contains the credential
	header []string
}

func reject(status int, format string, args ...any) *rejection {
	return &rejection{status: status, reason: fmt.Sprintf(format, args...)}
}

// handle serves one client connection from request to end of tunnel.
func (p *Proxy) handle(s *session) {
	defer p.untrack(s)
	defer s.abort()
	client := s.client.RemoteAddr().String()

	target, pipelined, rej := p.readConnect(s.client, s.accepted)
	if rej != nil {
		p.refuse(s.client, client, target, rej)
		return
	}
	if !p.acquireSlot() {
		p.refuse(s.client, client, target, reject(http.StatusServiceUnavailable,
			"too many tunnels: %d are open or being set up (MaxTunnels)", p.cfg.MaxTunnels))
		return
	}
	defer p.releaseSlot()
	p.admit(s)
	if !s.enter(phaseDial) {
		return
	}

	started := time.Now()
	gw, err := p.dialGateway(p.dialCtx, target)
	if err != nil {
		p.refuse(s.client, client, target, reject(http.StatusBadGateway, "%v", err))
		return
	}
	if !s.attachGateway(gw.raw) {
		gw.raw.Close()
		return
	}
	s.client.SetWriteDeadline(time.Now().Add(p.cfg.HeaderTimeout))
	if _, err := io.WriteString(s.client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		p.log.Debug("client left before the tunnel opened", "client", client, "target", target, "error", err)
		return
	}
	s.client.SetWriteDeadline(time.Time{})
	if !s.enter(phaseTunnel) {
		return
	}

	p.total.Add(1)
	p.active.Add(1)
	p.log.Debug("tunnel open", "client", client, "target", target, "setup", time.Since(started))
	result := p.splice(s, gw, pipelined)
	p.active.Add(-1)
	attrs := []any{"client", client, "target", target, "duration", time.Since(started),
		"bytes_to_gateway", result.up, "bytes_to_client", result.down}
	switch {
	case result.idle:
		p.log.Info("closed idle tunnel", append(attrs, "idle_timeout", p.cfg.IdleTimeout)...)
	case result.lingered:
		p.log.Debug("closed a tunnel its client had left", append(attrs, "answer_linger", p.cfg.AnswerLinger)...)
	case result.err != nil:
		p.log.Debug("tunnel closed", append(attrs, "error", result.err)...)
	default:
		p.log.Debug("tunnel closed", attrs...)
	}
}

// readConnect reads and checks the client's request. It returns the
// normalized target and any bytes the client sent after the header (a
// pipelined TLS ClientHello), which belong to the tunnel.
//
// A silent client is dropped after firstByteTimeout, and the whole header
// must arrive within HeaderTimeout of accepted, however it is trickled.
func (p *Proxy) readConnect(conn net.Conn, accepted time.Time) (target string, pipelined []byte, rej *rejection) {
	limited := &io.LimitedReader{R: conn, N: int64(p.cfg.MaxHeaderBytes)}
	br := bufio.NewReader(limited)
	conn.SetReadDeadline(p.cfg.firstByteDeadline(accepted))
	_, err := br.Peek(1)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "", nil, &rejection{reason: fmt.Sprintf("no request within %s of connecting", min(firstByteTimeout, p.cfg.HeaderTimeout))}
	}
	conn.SetReadDeadline(accepted.Add(p.cfg.HeaderTimeout))
	req, err := http.ReadRequest(br)
	if err != nil {
		switch {
		case limited.N <= 0:
			return "", nil, reject(http.StatusRequestHeaderFieldsTooLarge,
				"request header exceeds %d bytes (MaxHeaderBytes)", p.cfg.MaxHeaderBytes)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return "", nil, &rejection{reason: fmt.Sprintf("no complete request header within %s (HeaderTimeout)", p.cfg.HeaderTimeout)}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
			return "", nil, &rejection{reason: "client closed the connection before sending a request"}
		default:
			return "", nil, reject(http.StatusBadRequest, "malformed request: %s", withoutQuotes(err.Error()))
		}
	}
	conn.SetReadDeadline(time.Time{})

	// Method first: a browser tricked into talking to us can send GET or
	// POST but never CONNECT, and must not get a 407 login prompt.
	if req.Method != http.MethodConnect {
		rej := reject(http.StatusMethodNotAllowed, "method %s not allowed: this proxy only tunnels CONNECT", req.Method)
		rej.header = []string{"Allow: CONNECT"}
		return "", nil, rej
	}
	if why := p.checkCredential(req.Header); why != "" {
		rej := reject(http.StatusProxyAuthRequired, "%s: use the proxy-url securekapi configured for this run", why)
		rej.header = []string{`Proxy-Authenticate: Basic realm="securekapi"`}
		return "", nil, rej
	}
	if req.ContentLength != 0 || len(req.TransferEncoding) > 0 {
		return "", nil, reject(http.StatusBadRequest, "CONNECT must not carry a body")
	}
	if strings.HasPrefix(req.RequestURI, "/") {
		return "", nil, reject(http.StatusBadRequest, "CONNECT target %q must be host:port", req.RequestURI)
	}
	target, err = normalizeTarget(req.RequestURI)
	if err != nil {
		return "", nil, reject(http.StatusBadRequest, "%v", err)
	}
	if !p.cfg.allowed[target] {
		return target, nil, reject(http.StatusForbidden, "target %s is not allowed; allowed: %s", target, p.cfg.allowedList())
	}
	if n := br.Buffered(); n > 0 {
		pipelined = make([]byte, n)
		io.ReadFull(br, pipelined) // cannot fail: the bytes are buffered
	}
	return target, pipelined, nil
}

// withoutQuotes replaces every quoted string in msg with "...". net/http
// and net/textproto quote the line they could not parse, which can be the
// Proxy-Authorization header, and a reason is logged and sent back.
func withoutQuotes(msg string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			return b.String() + msg
		}
		b.WriteString(msg[:i] + `"..."`)
		quoted, err := strconv.QuotedPrefix(msg[i:])
		if err != nil {
			return b.String() // an unterminated quote: drop the rest
		}
		msg = msg[i+len(quoted):]
	}
}

// checkCredential returns why the Proxy-Authorization header is not the
// run's credential, or "" when it is.
func (p *Proxy) checkCredential(h http.Header) string {
	value := h.Get("Proxy-Authorization")
	if value == "" {
		return "proxy credential missing"
	}
	scheme, encoded, _ := strings.Cut(value, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "proxy credential must use Basic authentication"
	}
	decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return "proxy credential is not valid base64"
	}
	got := sha256.Sum256(decoded)
	if subtle.ConstantTimeCompare(got[:], p.cfg.authDigest[:]) != 1 {
		return "proxy credential wrong"
	}
	return ""
}

// refuse answers rej (unless it is a silent close), logs it and lingers
// briefly so the client can read the answer.
func (p *Proxy) refuse(conn net.Conn, client, target string, rej *rejection) {
	if rej.status == 0 {
		p.log.Debug("closing client connection", "client", client, "reason", rej.reason)
		return
	}
	p.rejected.Add(1)
	level := p.log.Info
	if rej.status == http.StatusBadGateway {
		level = p.log.Warn
	}
	level("refused tunnel", "client", client, "target", target, "status", rej.status, "reason", rej.reason)

	conn.SetWriteDeadline(time.Now().Add(p.cfg.HeaderTimeout))
	if err := writeRejection(conn, rej); err != nil {
		return
	}
	if cw, ok := conn.(closeWriter); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.CopyN(io.Discard, conn, lingerBytes)
}

func writeRejection(w io.Writer, rej *rejection) error {
	reason := sanitizeReason(rej.reason)
	body := "securekapi: " + reason + "\n"
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s: %s\r\n", rej.status, http.StatusText(rej.status), reason)
	for _, h := range rej.header {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_, err := io.WriteString(w, b.String())
	return err
}

// sanitizeReason makes a reason safe for a status line: one line, printable,
// bounded.
func sanitizeReason(reason string) string {
	reason = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, reason)
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen] + "..."
	}
	return reason
}
