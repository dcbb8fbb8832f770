package localproxy

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a running loopback proxy. Create it with Start and stop it with
// Shutdown.
type Proxy struct {
	cfg      *settings
	log      *slog.Logger
	listener net.Listener
	// Copy buffers (*[]byte) shared by all tunnels, one pool per direction.
	upBuffers, downBuffers sync.Pool
	// sessionCache lets repeated tunnels resume the gateway TLS session,
	// saving a full handshake per kubectl connection (sessions.go).
	sessionCache *sessionCache

	// dialCtx parents every gateway dial; cancelling it aborts dials in
	// flight when the proxy is forced down.
	dialCtx     context.Context
	cancelDials context.CancelFunc

	slotsInUse atomic.Int64 // sessions past authorization: dialing or tunnelling
	active     atomic.Int64
	total      atomic.Int64
	rejected   atomic.Int64
	evicted    atomic.Int64

	// maxPending caps connections that hold no tunnel slot yet (see
	// admission.go).
	maxPending int

	mu       sync.Mutex
	closed   bool // no new sessions once set
	sessions map[*session]struct{}
	pending  *list.List // of *session without a tunnel slot, oldest first
	handlers sync.WaitGroup

	closing    chan struct{} // closed when shutdown begins
	closeOnce  sync.Once
	acceptDone chan struct{}
	// The Start context's watcher: stopped by the first Shutdown, which
	// records whether it had already started.
	stopCtxWatch    func() bool
	stopWatchOnce   sync.Once
	ctxWatchStarted bool
	ctxWatchDone    chan struct{}
}

// Stats are counters since Start.
type Stats struct {
	Active   int64 // tunnels open now
	Total    int64 // tunnels established
	Rejected int64 // requests answered with an error status instead of a tunnel
	Evicted  int64 // unauthenticated connections closed to stay under the pending cap
}

// Start validates cfg, listens on the loopback address and serves in
// background goroutines. Cancelling ctx closes the listener and every tunnel
// at once; either way, call Shutdown to wait for all goroutines to exit.
func Start(ctx context.Context, cfg Config) (*Proxy, error) {
	s, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.Listen, err)
	}
	// "localhost" is resolved by the system; refuse if it maps elsewhere.
	if addr, ok := ln.Addr().(*net.TCPAddr); !ok || !addr.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("listen address %q resolved to %s, which is not a loopback address", s.Listen, ln.Addr())
	}
	p := &Proxy{
		cfg:          s,
		log:          s.Logger,
		listener:     ln,
		sessionCache: newSessionCache(),
		sessions:     make(map[*session]struct{}),
		pending:      list.New(),
		maxPending:   pendingLimit(),
		closing:      make(chan struct{}),
		acceptDone:   make(chan struct{}),
		ctxWatchDone: make(chan struct{}),
	}
	p.upBuffers.New = func() any {
		b := make([]byte, upBufferSize)
		return &b
	}
	p.downBuffers.New = func() any {
		b := make([]byte, downBufferSize)
		return &b
	}
	p.dialCtx, p.cancelDials = context.WithCancel(ctx)
	p.stopCtxWatch = context.AfterFunc(ctx, func() {
		defer close(p.ctxWatchDone)
		p.beginShutdown()
		p.forceClose()
	})
	go p.acceptLoop()
	p.log.Info("local proxy listening", "addr", ln.Addr().String(), "gateway", s.Gateway.Address, "mode", string(s.Gateway.Mode))
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.listener.Addr() }

// URL is the proxy-url for kubectl, credential included:
// http://securekapi:<credential>@127.0.0.1:<port>.
func (p *Proxy) URL() *url.URL {
	return &url.URL{
		Scheme: "http",
		User:   url.UserPassword(proxyUser, p.cfg.Credential),
		Host:   p.listener.Addr().String(),
	}
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	return Stats{Active: p.active.Load(), Total: p.total.Load(), Rejected: p.rejected.Load(), Evicted: p.evicted.Load()}
}

// Shutdown stops accepting connections, drops connections that have not
// finished sending a request and tunnels whose client has ended its side
// (a half-closed client waiting for an answer included), and lets the other
// tunnels (and tunnels being set up) run until they end or ctx is done;
// then it closes them all. It returns after
// every goroutine of the proxy has exited, with ctx.Err() if it had to force
// tunnels closed.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.beginShutdown()
	<-p.acceptDone
	p.mu.Lock()
	for s := range p.sessions {
		// The grace period is for streams a client still holds open; one
		// whose client has gone has nobody to finish for.
		s.abortIfPhase(phaseRequest)
		s.abortIfPhase(phaseAnswer)
	}
	p.mu.Unlock()

	allDone := make(chan struct{})
	go func() {
		p.handlers.Wait()
		close(allDone)
	}()
	var err error
	select {
	case <-allDone:
	case <-ctx.Done():
		err = ctx.Err()
		p.forceClose()
		<-allDone
	}
	p.cancelDials()
	p.stopWatchOnce.Do(func() { p.ctxWatchStarted = !p.stopCtxWatch() })
	if p.ctxWatchStarted {
		// Wait so no goroutine outlives Shutdown.
		<-p.ctxWatchDone
	}
	return err
}

func (p *Proxy) beginShutdown() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.closing)
		p.listener.Close()
	})
}

// forceClose aborts dials in flight and closes every connection.
func (p *Proxy) forceClose() {
	p.cancelDials()
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.sessions {
		s.abort()
	}
}

func (p *Proxy) acceptLoop() {
	defer close(p.acceptDone)
	var backoff time.Duration
	for {
		conn, err := p.listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Typically EMFILE: the listener still works, so back off rather
			// than spin or give up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed; retrying", "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-p.closing:
				return
			}
			continue
		}
		backoff = 0
		s := &session{client: conn, accepted: time.Now()}
		if !p.track(s) {
			conn.Close()
			continue
		}
		go p.handle(s)
	}
}

func (p *Proxy) track(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.sessions[s] = struct{}{}
	p.addPending(s)
	p.handlers.Add(1)
	return true
}

func (p *Proxy) untrack(s *session) {
	p.mu.Lock()
	delete(p.sessions, s)
	p.removePending(s)
	p.mu.Unlock()
	p.handlers.Done()
}

func (p *Proxy) acquireSlot() bool {
	if p.slotsInUse.Add(1) > int64(p.cfg.MaxTunnels) {
		p.slotsInUse.Add(-1)
		return false
	}
	return true
}

func (p *Proxy) releaseSlot() { p.slotsInUse.Add(-1) }

// phase is how far a client connection got; Shutdown treats them differently.
type phase int

const (
	phaseRequest phase = iota // reading the CONNECT request or answering an error
	phaseDial                 // reaching the gateway
	phaseTunnel               // splicing bytes
	phaseAnswer               // the client has ended its side; only the answer flows
)

// session is one client connection and, once dialed, its gateway connection.
type session struct {
	client   net.Conn
	accepted time.Time
	// pendingAt is s's place in Proxy.pending; nil once it holds a tunnel
	// slot or was evicted. Guarded by Proxy.mu.
	pendingAt *list.Element

	mu         sync.Mutex
	phase      phase
	gatewayRaw net.Conn
	aborted    bool
}

// enter moves the session to a later phase unless it was aborted.
func (s *session) enter(ph phase) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		return false
	}
	s.phase = ph
	return true
}

// attachGateway records the gateway's transport connection so abort can
// close it; it reports false (and the caller must close it) after an abort.
func (s *session) attachGateway(raw net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		return false
	}
	s.gatewayRaw = raw
	return true
}

// abort closes both connections. It closes the gateway's transport rather
// than the tls.Conn: tls.Conn.Close may block sending close_notify to a peer
// that stopped reading.
func (s *session) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.abortLocked()
}

func (s *session) abortLocked() {
	if s.aborted {
		return
	}
	s.aborted = true
	s.client.Close()
	if s.gatewayRaw != nil {
		s.gatewayRaw.Close()
	}
}

func (s *session) abortIfPhase(ph phase) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == ph {
		s.abortLocked()
	}
}
