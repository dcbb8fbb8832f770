package localproxy

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Copy buffers. Reads from the client's TCP connection fill up to 32 KiB,
// which the gateway's tls.Conn then writes as two full records. Reads from
// the gateway's tls.Conn return at most one TLS record's plaintext (16 KiB),
// so a larger buffer there would only be memory every tunnel holds.
const (
	upBufferSize   = 32 << 10
	downBufferSize = 16 << 10
)

type closeWriter interface{ CloseWrite() error }

type spliceResult struct {
	up, down int64 // bytes client→gateway, gateway→client
	err      error // first failure; nil when both sides ended with EOF
	idle     bool  // closed by IdleTimeout
	lingered bool  // closed by AnswerLinger: the client had left
}

// splice copies bytes both ways until both directions reach EOF or either
// fails. An EOF is passed on as a half-close, so the other direction keeps
// flowing (after the client's EOF, until the answer has been silent for
// Config.AnswerLinger); a failure aborts both.
func (p *Proxy) splice(s *session, gw *gatewayConn, pipelined []byte) spliceResult {
	var idle *idleWatch
	if p.cfg.IdleTimeout > 0 {
		idle = newIdleWatch(p.cfg.IdleTimeout, s.abort)
	}
	fromClient := withPrefix(s.client, pipelined)
	// The answer watch exists once the client's side has ended; every
	// read of the answer after that touches it.
	var answer atomic.Pointer[idleWatch]
	fromGateway := answerReader{withPrefix(gw.conn, gw.early), &answer}

	// The first failure is the cause; the other direction then only sees
	// its connection closed under it.
	var firstErr error
	var failOnce sync.Once
	fail := func(err error) {
		failOnce.Do(func() { firstErr = err })
		s.abort()
	}
	upDone := make(chan int64, 1)
	go func() {
		n := p.pipe(gw.conn, fromClient, &p.upBuffers, idle, fail)
		if w := p.clientEnded(s); w != nil {
			answer.Store(w)
		}
		upDone <- n
	}()
	down := p.pipe(s.client, fromGateway, &p.downBuffers, idle, fail)
	up := <-upDone

	result := spliceResult{up: up, down: down, err: firstErr}
	if w := answer.Load(); w != nil {
		result.lingered = w.stop()
	}
	if idle != nil {
		result.idle = idle.stop()
	}
	return result
}

// clientEnded moves s to phaseAnswer once the client's side is done: during
// Shutdown it is aborted at once; otherwise the watch it returns aborts it
// once the answer has been silent for AnswerLinger. The caller stops the
// watch when the answer ends first.
func (p *Proxy) clientEnded(s *session) *idleWatch {
	if !s.enter(phaseAnswer) {
		return nil
	}
	select {
	case <-p.closing:
		// Shutdown may have looked at s before it entered phaseAnswer.
		s.abort()
		return nil
	default:
	}
	return newIdleWatch(p.cfg.AnswerLinger, s.abort)
}

// answerReader touches the answer watch, once there is one, on every read.
type answerReader struct {
	r     io.Reader
	watch *atomic.Pointer[idleWatch]
}

func (a answerReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		if w := a.watch.Load(); w != nil {
			w.touch()
		}
	}
	return n, err
}

// pipe copies src to dst with a buffer from pool and half-closes dst at
// EOF.
func (p *Proxy) pipe(dst net.Conn, src io.Reader, pool *sync.Pool, idle *idleWatch, fail func(error)) int64 {
	bufp := pool.Get().(*[]byte)
	defer pool.Put(bufp)
	// The wrappers hide ReaderFrom/WriterTo: *net.TCPConn's ReadFrom would
	// fall back to io.Copy with a fresh 32 KiB buffer per call for a
	// tls.Conn source, defeating the pool.
	n, err := io.CopyBuffer(writerOnly{dst}, activityReader{src, idle}, *bufp)
	if err == nil {
		err = closeWrite(dst)
	}
	if err != nil {
		fail(err)
	}
	return n
}

// closeWrite signals EOF to the peer of c. For TLS it sends close_notify and
// then also shuts down the transport's write side, for gateways that wait
// for a TCP FIN rather than the alert.
func closeWrite(c net.Conn) error {
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		c = tc.NetConn()
	}
	if cw, ok := c.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

func withPrefix(r io.Reader, prefix []byte) io.Reader {
	if len(prefix) == 0 {
		return r
	}
	return io.MultiReader(bytes.NewReader(prefix), r)
}

type writerOnly struct{ io.Writer }

// activityReader reports every successful read to the idle watch.
type activityReader struct {
	r    io.Reader
	idle *idleWatch
}

func (a activityReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 && a.idle != nil {
		a.idle.touch()
	}
	return n, err
}

// idleWatch calls onIdle once neither direction has read anything for
// timeout. It uses a timer instead of read deadlines because a deadline per
// direction would cut a watch whose request direction is silent for hours.
type idleWatch struct {
	timeout time.Duration
	start   time.Time
	last    atomic.Int64 // time.Since(start) at the last read, in ns
	onIdle  func()

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	fired   bool
}

func newIdleWatch(timeout time.Duration, onIdle func()) *idleWatch {
	w := &idleWatch{timeout: timeout, start: time.Now(), onIdle: onIdle}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(timeout, w.check)
	return w
}

func (w *idleWatch) touch() { w.last.Store(int64(time.Since(w.start))) }

func (w *idleWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	idleFor := time.Since(w.start) - time.Duration(w.last.Load())
	if idleFor < w.timeout {
		w.timer.Reset(w.timeout - idleFor)
		return
	}
	w.stopped, w.fired = true, true
	w.onIdle()
}

// stop disarms the watch and reports whether it had fired. Once it returns,
// onIdle is not running and will not run.
func (w *idleWatch) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
	return w.fired
}
