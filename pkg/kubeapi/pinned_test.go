package kubeapi

import (
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// TestPinnedSendsTheTokenOnlyToTheBoundServer: the token reaches the
// server with the pinned chain for the bound name, on every kind of
// request; a server with a pinned-CA certificate for another name, and
// one whose chain the bundle trusts but misses the pins, receive no
// request at all. The second is stopped only by the per-handshake check.
func TestPinnedSendsTheTokenOnlyToTheBoundServer(t *testing.T) {
	root, rogue := testpki.Root(t, "Pinned Root"), testpki.Root(t, "Rogue Root")
	ctx := t.Context()
	const token = "eyJ.SECRET.token"

	honest := record(t, testpki.Leaf(t, root, boundName), root, healthyAPI)
	if v, err := pinned(t, honest.srv.URL, root, rogue, "").Version(ctx); err != nil || v.GitVersion != "v1.32.4" {
		t.Fatalf("Version = %+v, %v", v, err)
	}
	c := pinned(t, honest.srv.URL, root, rogue, token)
	if u, err := c.WhoAmI(ctx); err != nil || u.Username != "alice@example.test" || len(u.Groups) != 1 {
		t.Fatalf("WhoAmI = %+v, %v", u, err)
	}
	body, err := c.Watch(ctx, "/api/v1/namespaces/default/pods", url.Values{"resourceVersion": {"0"}})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if data, _ := io.ReadAll(body); string(data) != `{"type":"ADDED"}` {
		t.Errorf("watch stream %q", data)
	}
	body.Close()
	if err := c.Upgrade(ctx, "/api/v1/namespaces/default/pods/p/exec", url.Values{"command": {"true"}}, http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}); !apierrors.IsNotFound(err) || !IsAPIError(err) {
		t.Errorf("Upgrade for a missing pod: %v, want the API server's NotFound", err)
	}
	want := []string{"GET /version ", "POST /apis/authentication.k8s.io/v1/selfsubjectreviews Bearer " + token,
		"GET /api/v1/namespaces/default/pods Bearer " + token, "GET /api/v1/namespaces/default/pods/p/exec Bearer " + token}
	if got := honest.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the bound server received\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for name, attacker := range map[string]*recorder{
		"pinned CA, another name":  record(t, testpki.Leaf(t, root, "evil.example"), root, healthyAPI),
		"bundle's rogue root":      record(t, testpki.Leaf(t, rogue, boundName), rogue, healthyAPI),
		"self-signed for the name": record(t, testpki.Leaf(t, nil, boundName), testpki.Root(t, "unused"), healthyAPI),
	} {
		t.Run(name, func(t *testing.T) {
			c := pinned(t, attacker.srv.URL, root, rogue, token)
			if _, err := c.Version(ctx); err == nil || IsAPIError(err) {
				t.Errorf("Version: %v, want a refused handshake", err)
			}
			if _, err := c.WhoAmI(ctx); err == nil || IsAPIError(err) {
				t.Errorf("WhoAmI: %v, want a refused handshake", err)
			}
			if s, err := c.Watch(ctx, "/api/v1/namespaces/default/pods", nil); err == nil {
				s.Close()
				t.Error("Watch: no error")
			}
			if err := c.Upgrade(ctx, "/api/v1/namespaces/default/pods/p/exec", nil, nil); err == nil || IsAPIError(err) {
				t.Errorf("Upgrade: %v, want a refused handshake", err)
			}
			if got := attacker.requests(); len(got) != 0 {
				t.Errorf("the attacker received %q", got)
			}
		})
	}

	if _, err := NewPinned(Pinned{Server: honest.srv.URL, Token: token, Policy: trust.Policy{CABundle: []*x509.Certificate{root.Cert}, ServerName: boundName, Now: time.Now()}}); err == nil {
		t.Error("NewPinned took a token under a policy without pins")
	}
}

// TestPinnedFollowsNoRedirect: the bound server redirecting every kind of
// request to another host gets the redirect back as the answer; the other
// host receives nothing. client-go's bearer round tripper would set the
// token again on a followed redirect, so this fails if one is followed.
func TestPinnedFollowsNoRedirect(t *testing.T) {
	root, rogue := testpki.Root(t, "Pinned Root"), testpki.Root(t, "Rogue Root")
	collector := record(t, nil, nil, healthyAPI)
	bound := record(t, testpki.Leaf(t, root, boundName), root, func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusFound
		if r.Method == http.MethodPost {
			code = http.StatusTemporaryRedirect // the code that keeps a POST a POST
		}
		http.Redirect(w, r, collector.srv.URL+r.URL.RequestURI(), code)
	})
	c := pinned(t, bound.srv.URL, root, rogue, "eyJ.SECRET.token")
	ctx := t.Context()
	redirected := func(what string, err error, want int) {
		t.Helper()
		if code, _, ok := UnexpectedAnswer(err); !ok || code != want || IsAPIError(err) {
			t.Errorf("%s: %v, want the %d back as an answer that is not the API server's", what, err, want)
		}
	}
	_, err := c.Version(ctx)
	redirected("Version", err, http.StatusFound)
	_, err = c.WhoAmI(ctx)
	redirected("WhoAmI", err, http.StatusTemporaryRedirect)
	s, err := c.Watch(ctx, "/api/v1/namespaces/default/pods", nil)
	if err == nil {
		s.Close()
	}
	redirected("Watch", err, http.StatusFound)
	redirected("Upgrade", c.Upgrade(ctx, "/api/v1/namespaces/default/pods/p/exec", nil, nil), http.StatusFound)
	if got := collector.requests(); len(got) != 0 {
		t.Errorf("the redirect target received %q", got)
	}
	if got := bound.requests(); len(got) != 4 {
		t.Errorf("the bound server received %q, want the 4 requests", got)
	}
}

// TestAnAnswerThatIsNotTheAPIServers: a proxy's error page is not taken
// for the API server's Status, whatever its code; the API server's is.
func TestAnAnswerThatIsNotTheAPIServers(t *testing.T) {
	root, rogue := testpki.Root(t, "Pinned Root"), testpki.Root(t, "Rogue Root")
	api := record(t, testpki.Leaf(t, root, boundName), root, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/proxied") {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "<html><body><h1>401 Authorization Required</h1></body></html>")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
	})
	c := pinned(t, api.srv.URL, root, rogue, "eyJ.SECRET.token")
	ctx := t.Context()
	_, err := c.WhoAmI(ctx)
	if !IsAPIError(err) || !apierrors.IsUnauthorized(err) {
		t.Errorf("the API server's 401: %v, want IsAPIError and IsUnauthorized", err)
	}
	if _, _, ok := UnexpectedAnswer(err); ok {
		t.Errorf("the API server's 401 taken for a foreign answer: %v", err)
	}
	if err := c.Upgrade(ctx, "/api/v1/x", nil, nil); !IsAPIError(err) || !apierrors.IsUnauthorized(err) {
		t.Errorf("Upgrade, the API server's 401: %v", err)
	}
	for what, err := range map[string]error{
		"Watch":   watchErr(c, "/proxied/pods"),
		"Upgrade": c.Upgrade(ctx, "/proxied/exec", nil, nil),
	} {
		code, body, ok := UnexpectedAnswer(err)
		if IsAPIError(err) || !ok || code != http.StatusUnauthorized || !strings.Contains(body, "401 Authorization Required") {
			t.Errorf("%s through a proxy's 401 page: %v (%d %q), want a foreign answer with its page", what, err, code, body)
		}
	}
}

func watchErr(c *REST, apiPath string) error {
	s, err := c.Watch(context.Background(), apiPath, nil)
	if err == nil {
		s.Close()
	}
	return err
}

// TestPinnedRetriesNothing: a hop answering 503 with Retry-After is
// reported at once, where client-go would ask ten more times, a second
// apart, and doctor's timeout would be all it had to say.
func TestPinnedRetriesNothing(t *testing.T) {
	root, rogue := testpki.Root(t, "Pinned Root"), testpki.Root(t, "Rogue Root")
	busy := record(t, testpki.Leaf(t, root, boundName), root, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<html>503 Service Unavailable</html>")
	})
	c := pinned(t, busy.srv.URL, root, rogue, "eyJ.SECRET.token")
	ctx := t.Context()
	_, err := c.Version(ctx)
	if code, _, ok := UnexpectedAnswer(err); !ok || code != http.StatusServiceUnavailable {
		t.Errorf("Version: %v, want the 503", err)
	}
	if err := watchErr(c, "/api/v1/namespaces/default/pods"); err == nil {
		t.Error("Watch: no error")
	}
	if got := busy.requests(); len(got) != 2 {
		t.Errorf("the hop received %d requests, want one per call: %q", len(got), got)
	}
}

// closeRecorder is a connection that says when it is closed.
type closeRecorder struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func (c *closeRecorder) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// pinnedRecordingConns is a pinned client for server whose every
// connection reports its Close on conns.
func pinnedRecordingConns(t *testing.T, server string, root *testpki.Pair) (*REST, chan *closeRecorder) {
	t.Helper()
	conns := make(chan *closeRecorder, 4)
	var d net.Dialer
	c, err := NewPinned(Pinned{Server: server, Token: "eyJ.SECRET.token",
		Policy: trust.Policy{CABundle: []*x509.Certificate{root.Cert}, Pins: []pinning.Pin{trust.PinFor(root.Cert)}, ServerName: boundName, Now: time.Now()},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			rc := &closeRecorder{Conn: conn, closed: make(chan struct{})}
			conns <- rc
			return rc, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return c, conns
}

// TestPinnedKeepsNoIdleConnection: a probe's connection is closed once
// its answer is read. Through a tunnel an idle keep-alive connection is an
// open stream the loopback proxy must wait out on shutdown (its grace
// period), and each probe should see the hop afresh anyway.
func TestPinnedKeepsNoIdleConnection(t *testing.T) {
	root := testpki.Root(t, "Pinned Root")
	api := record(t, testpki.Leaf(t, root, boundName), root, healthyAPI)
	c, conns := pinnedRecordingConns(t, api.srv.URL, root)
	if _, err := c.Version(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn := <-conns
	select {
	case <-conn.closed:
	case <-time.After(5 * time.Second): // a hang guard, not a speed target
		t.Fatal("the probe's connection is still open after its answer was read")
	}
}

// TestPinnedWatchCloseClosesTheConnection: closing a watch closes its
// connection, though the stream is still open at the server's end and a
// reader is blocked on it (doctor's held watch). Left open, it is a stream
// the loopback proxy waits out on shutdown. (It held before the keep-alive
// change too: the watch doctor left open was the tunnel's, see localproxy's
// AnswerLinger. This guards the client's half.)
func TestPinnedWatchCloseClosesTheConnection(t *testing.T) {
	root := testpki.Root(t, "Pinned Root")
	release := make(chan struct{})
	defer close(release)
	api := record(t, testpki.Leaf(t, root, boundName), root, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select { // a silent watch
		case <-release:
		case <-r.Context().Done():
		}
	})
	c, conns := pinnedRecordingConns(t, api.srv.URL, root)
	stream, err := c.Watch(t.Context(), "/api/v1/namespaces/default/pods", nil)
	if err != nil {
		t.Fatal(err)
	}
	reading := make(chan struct{})
	go func() {
		close(reading)
		_, _ = io.Copy(io.Discard, stream)
	}()
	<-reading
	time.Sleep(50 * time.Millisecond) // let the reader block in Read
	stream.Close()
	conn := <-conns
	select {
	case <-conn.closed:
	case <-time.After(5 * time.Second): // a hang guard, not a speed target
		t.Fatal("the watch's connection is still open after the watch was closed")
	}
}
