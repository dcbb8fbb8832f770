package localproxy

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
)

const fuzzCredential = "fuzz-credential-0123456789abcdef"

// FuzzReadConnect: the request line and headers come from any local process
// that can reach the port. readConnect never panics; it opens a tunnel only
// for a CONNECT carrying the run's credential to an allowed target, handing
// on exactly the bytes the client sent after the header; and no rejection
// (which is logged and put in the status line) quotes the credential, in
// clear or in its Basic encoding.
func FuzzReadConnect(f *testing.F) {
	ca := testpki.Root(f, "Fuzz Client CA")
	cfg := Config{
		Gateway:        Gateway{Address: "127.0.0.1:1", Certificate: clientCert(f, ca, "alice"), Mode: ModeConnect},
		AllowedTargets: []string{"kapi.example.test:443", "[::1]:6443"},
		Credential:     fuzzCredential,
		MaxHeaderBytes: 2048,
		HeaderTimeout:  time.Second,
	}
	s, err := newSettings(cfg)
	if err != nil {
		f.Fatal(err)
	}
	p := &Proxy{cfg: s, log: s.Logger}

	good := basicAuth(proxyUser, fuzzCredential)
	for _, seed := range []string{
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nHost: kapi.example.test:443\r\nProxy-Authorization: " + good + "\r\n\r\n",
		"CONNECT KAPI.example.test:0443 HTTP/1.1\r\nProxy-Authorization: " + good + "\r\n\r\n\x16\x03\x01\x00\x05hello",
		"CONNECT [::1]:6443 HTTP/1.1\nproxy-authorization: basic " + strings.TrimPrefix(good, "Basic ") + "\n\n",
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nProxy-Authorization: Basic d3Jvbmc6d3Jvbmc=\r\n\r\n",
		"CONNECT evil.example.test:443 HTTP/1.1\r\nProxy-Authorization: " + good + "\r\n\r\n",
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nProxy-Authorization: " + good + "\r\nContent-Length: 4\r\n\r\nbody",
		"CONNECT /kapi.example.test:443 HTTP/1.1\r\nProxy-Authorization: " + good + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\nProxy-Authorization: " + good + "\r\n\r\n",
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nProxy-Authorization : " + good + "\r\n\r\n",
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nProxy-Authorization" + good + "\r\n\r\n",
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nProxy-Authorization: " + good + "\r\n x\r\n\r\n",
		"CONNECT " + fuzzCredential + " HTTP/1.1\r\n\r\n",
		"CONNECT kapi.example.test:443 HTTP/1.1\r\nX: " + strings.Repeat("a", 3000) + "\r\n\r\n",
		"", "\r\n\r\n", "CONNECT", "CONNECT kapi.example.test:443 HTTP/1.1\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		conn := &scriptedConn{r: bytes.NewReader(input)}
		target, pipelined, rej := p.readConnect(conn, time.Now())
		read := input[:len(input)-conn.r.Len()]
		if rej != nil {
			checkRejection(t, rej, input)
			return
		}
		if !s.allowed[target] {
			t.Fatalf("tunnel to %q, which is not allowed", target)
		}
		if !bytes.HasSuffix(read, pipelined) {
			t.Fatalf("pipelined bytes %q are not what the client sent after its header", pipelined)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(input)))
		if err != nil {
			t.Fatalf("accepted a request net/http cannot read: %v", err)
		}
		if req.Method != http.MethodConnect {
			t.Fatalf("accepted method %q", req.Method)
		}
		scheme, encoded, _ := strings.Cut(req.Header.Get("Proxy-Authorization"), " ")
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if !strings.EqualFold(scheme, "Basic") || err != nil || string(decoded) != proxyUser+":"+fuzzCredential {
			t.Fatalf("accepted Proxy-Authorization %q, which is not the run's credential", req.Header.Get("Proxy-Authorization"))
		}
	})
}

// checkRejection: a refusal says why, never quotes the credential, and
// writes a response a client can read with that status.
func checkRejection(t *testing.T, rej *rejection, input []byte) {
	t.Helper()
	// A client that sends the credential as its CONNECT target may see it
	// quoted back; that is the one place it asked for it.
	line, _, _ := bytes.Cut(input, []byte("\n"))
	for _, secret := range []string{fuzzCredential, base64.StdEncoding.EncodeToString([]byte(proxyUser + ":" + fuzzCredential))} {
		if bytes.Contains(line, []byte(secret)) {
			continue
		}
		if strings.Contains(rej.reason, secret) || strings.Contains(strings.Join(rej.header, "\n"), secret) {
			t.Fatalf("rejection quotes the credential: %q", rej.reason)
		}
	}
	if rej.reason == "" {
		t.Fatal("rejection without a reason")
	}
	if rej.status == 0 {
		return
	}
	var out bytes.Buffer
	if err := writeRejection(&out, rej); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(&out), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("rejection %d %q is not a readable response: %v\n%q", rej.status, rej.reason, err, out.String())
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != rej.status || !strings.HasPrefix(string(body), "securekapi: ") {
		t.Fatalf("rejection reads back as %d with body %q, want %d", resp.StatusCode, body, rej.status)
	}
}

// scriptedConn is a client connection that sends fixed bytes, then EOF.
// readConnect uses only Read and SetReadDeadline.
type scriptedConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *scriptedConn) Read(b []byte) (int, error)      { return c.r.Read(b) }
func (c *scriptedConn) SetReadDeadline(time.Time) error { return nil }
