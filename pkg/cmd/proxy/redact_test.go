package proxy

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/securekapi/securekapi/pkg/tunnel"

	"github.com/securekapi/securekapi/pkg/cmd/add"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmd/use"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/redact"
)

// lockedBuffer is stderr written by the proxy's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestTunnelLogIsRedacted: the tunnel logs what a client asked for, and a
// client can put anything there; a token the process holds must not reach
// stderr through it. The tunnel's own per-run proxy credential is held as
// a secret too, so no error or log line shows it either.
func TestTunnelLogIsRedacted(t *testing.T) {
	f, _ := cmdtest.Tunneled(t, add.NewCmdAdd, use.NewCmdUse)
	g := cmdtest.Factory(f.Env)
	var errOut lockedBuffer
	g.ErrOut = &errOut
	g.Verbosity = 1
	g.Secrets = &redact.Secrets{}
	// Mixed case, as tokens are: the proxy lowercases the host it logs.
	const token = "eyJhbGciOiJSUzI1NiJ9-Tok5F2c9E1a7B3d"
	g.Secrets.Add(token)

	c, err := cmdutil.RegisteredCluster(g.Registry, "cluster-a")
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Tunnels().Start(t.Context(), c, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	password, _ := p.URL().User.Password()

	conn, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := base64.StdEncoding.EncodeToString([]byte(p.URL().User.String()))
	fmt.Fprintf(conn, "CONNECT %s.example:443 HTTP/1.1\r\nHost: %s.example:443\r\nProxy-Authorization: Basic %s\r\n\r\n", token, token, auth)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("CONNECT to a target not allowed: %s", resp.Status)
	}
	tunnel.Stop(p)

	log := errOut.String()
	if !strings.Contains(log, "refused tunnel") || !strings.Contains(log, redact.Redacted) {
		t.Fatalf("the refusal was not logged, redacted:\n%s", log)
	}
	folded, lowToken := strings.ToLower(log), strings.ToLower(token)
	for i := 0; i+12 <= len(lowToken); i++ {
		if strings.Contains(folded, lowToken[i:i+12]) {
			t.Fatalf("a piece of the token (%q), in some case, reached the tunnel's log:\n%s", token[i:i+12], log)
		}
	}
	if got := g.Secrets.Redact("proxy-url http://securekapi:" + password + "@127.0.0.1"); strings.Contains(got, password) {
		t.Errorf("the proxy credential is not held as a secret: %s", got)
	}
}
