//go:build linux

package localproxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

const (
	floodAddrEnv = "SECUREKAPI_TEST_FLOOD_ADDR"
	floodFor     = 8 * time.Second
	// floodHeld is how many connections the flooder keeps open at once:
	// more than the proxy's lowered descriptor limit, as in the report
	// (21,000 connections against a limit of 20,000).
	floodHeld = 6000
	// proxyFDLimit is the soft RLIMIT_NOFILE the test gives the proxy's
	// process, so exhaustion is reachable with floodHeld connections.
	proxyFDLimit = 4096
)

// TestFloodOfUnauthenticatedConnectionsSparesTunnels: a local process opens
// thousands of connections that send nothing, only a request line, or
// trickle a header byte by byte, more than the proxy has descriptors for.
// Meanwhile kubectl-like clients keep getting tunnels through a real mTLS
// gateway, each within seconds, and the proxy's descriptors stay bounded by
// its pending cap.
func TestFloodOfUnauthenticatedConnectionsSparesTunnels(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the proxy for several seconds")
	}
	lowerFDLimit(t, proxyFDLimit)
	e := newEnv(t)
	gw := e.startGateway(ModeConnect, "", "")
	p := e.startProxy(e.config(gw.addr(), ModeConnect))
	if p.maxPending >= proxyFDLimit/2 {
		t.Fatalf("pending cap %d does not leave room under a descriptor limit of %d", p.maxPending, proxyFDLimit)
	}

	// Warm up lazily opened descriptors before the baseline.
	if _, err := e.getAPI(p); err != nil {
		t.Fatalf("warm-up request: %v", err)
	}
	eventually(t, "the warm-up tunnel to close", func() bool { return p.Stats().Active == 0 })
	baseline := countFDs(t)

	flooder := exec.Command(os.Args[0], "-test.run=^TestFlooderProcess$", "-test.count=1")
	flooder.Env = append(os.Environ(), floodAddrEnv+"="+p.Addr().String())
	var flooderOut strings.Builder
	flooder.Stdout = &flooderOut
	flooder.Stderr = &flooderOut
	if err := flooder.Start(); err != nil {
		t.Fatal(err)
	}
	flooderDone := make(chan error, 1)
	go func() { flooderDone <- flooder.Wait() }()

	var maxFDs atomic.Int64
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Go(func() {
		for {
			maxFDs.Store(max(maxFDs.Load(), int64(countFDs(t))))
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})

	// Give the flood a head start, then be kubectl until it ends.
	time.Sleep(time.Second)
	client := e.httpsClient(p)
	client.Timeout = 5 * time.Second
	minOpened := 2 * floodHeld
	if raceEnabled {
		client.Timeout, minOpened = 15*time.Second, floodHeld
	}
	var ok, failed, retried int
	var slowest time.Duration
	for running := true; running; {
		select {
		case err := <-flooderDone:
			running = false
			if err != nil {
				t.Errorf("flooder: %v\n%s", err, flooderOut.String())
			}
			continue
		default:
		}
		start := time.Now()
		body, err := getOnce(client)
		// client-go retries a GET whose connection ended early (the rule
		// below is its rest.Request's), so kubectl does not see a pending
		// connection the proxy evicted before it read the CONNECT: on a
		// loaded machine the proxy may not read it before the flood's next
		// 512 connections arrive. A request fails when its retries fail too.
		for try := 1; try < 3 && err != nil && (utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)); try++ {
			retried++
			body, err = getOnce(client)
		}
		took := time.Since(start)
		slowest = max(slowest, took)
		if err != nil || body != apiGreeting {
			failed++
			if failed <= 3 {
				t.Errorf("authenticated request during the flood failed after %s: %v (body %q)", took.Round(time.Millisecond), err, body)
			}
			continue
		}
		ok++
		time.Sleep(50 * time.Millisecond)
	}
	close(stopSampling)
	sampling.Wait()

	opened := flooderCount(flooderOut.String())
	stats := p.Stats()
	t.Logf("flooder opened %d connections; %d authenticated requests succeeded (%d retries, as client-go retries a GET), %d failed, slowest %s; proxy descriptors peaked at %d (baseline %d, pending cap %d); evicted %d",
		opened, ok, retried, failed, slowest.Round(time.Millisecond), maxFDs.Load(), baseline, p.maxPending, stats.Evicted)
	if opened < minOpened {
		t.Errorf("the flooder opened only %d connections; the test needs a real flood", opened)
	}
	if ok < 3 {
		t.Errorf("only %d authenticated requests succeeded during the flood", ok)
	}
	if failed > 0 {
		t.Errorf("%d authenticated requests failed during the flood", failed)
	}
	// Each tunnel costs the proxy two descriptors and the in-process
	// gateway and API server three more; one request runs at a time.
	if limit := int64(baseline + p.maxPending + 32); maxFDs.Load() > limit {
		t.Errorf("descriptors peaked at %d, over baseline %d + pending cap %d + 32", maxFDs.Load(), baseline, p.maxPending)
	}
	if stats.Evicted == 0 {
		t.Error("no connection was evicted: the flood never reached the pending cap")
	}
	eventually(t, "the flood's connections to close", func() bool { return countFDs(t) <= baseline+4 })
}

// getOnce makes one request on a new tunnel.
func getOnce(client *http.Client) (string, error) {
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + apiTarget + "/version")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

const flooderReport = "flooder opened "

// flooderCount reads the count from the flooder's report line.
func flooderCount(out string) int {
	_, rest, _ := strings.Cut(out, flooderReport)
	line, _, _ := strings.Cut(rest, "\n")
	n, _ := strconv.Atoi(line)
	return n
}

// lowerFDLimit sets the soft RLIMIT_NOFILE for the rest of t.
func lowerFDLimit(t *testing.T, soft uint64) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if old.Max < floodHeld+512 {
		t.Skipf("hard RLIMIT_NOFILE %d is too low for the flooder to hold %d connections", old.Max, floodHeld)
	}
	lowered := old
	lowered.Cur = min(soft, old.Cur)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// TestFlooderProcess is the hostile local process of the flood test, run
// in a child so its descriptors do not count against the proxy's. It keeps
// floodHeld connections open, replacing the oldest, for floodFor, and
// prints how many it opened.
func TestFlooderProcess(t *testing.T) {
	addr := os.Getenv(floodAddrEnv)
	if addr == "" {
		t.Skip("the flood test runs this in a child process")
	}
	var (
		mu      sync.Mutex
		held    []net.Conn // ring of open connections
		next    int
		opened  atomic.Int64
		lorises []net.Conn
	)
	hold := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		if len(held) < floodHeld {
			held = append(held, c)
			return
		}
		held[next].Close()
		held[next] = c
		next = (next + 1) % floodHeld
	}
	deadline := time.Now().Add(floodFor)
	var workers sync.WaitGroup
	for w := range 8 {
		workers.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err != nil {
					continue // the old proxy, out of descriptors, stops accepting
				}
				opened.Add(1)
				switch (w + i) % 3 {
				case 0: // silent
				case 1: // a request line and nothing more
					c.SetWriteDeadline(time.Now().Add(time.Second))
					io.WriteString(c, "CONNECT "+apiTarget+" HTTP/1.1\r\n")
				case 2: // slow-loris, fed below
					mu.Lock()
					if len(lorises) < 200 {
						lorises = append(lorises, c)
					}
					mu.Unlock()
				}
				hold(c)
			}
		})
	}
	// Trickle one byte a second into each slow-loris connection.
	header := "CONNECT " + apiTarget + " HTTP/1.1\r\nHost: " + strings.Repeat("x", 64)
	for sent := 0; time.Now().Before(deadline); sent++ {
		time.Sleep(time.Second)
		mu.Lock()
		for _, c := range lorises {
			c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
			c.Write([]byte{header[sent%len(header)]})
		}
		mu.Unlock()
	}
	workers.Wait()
	mu.Lock()
	for _, c := range held {
		c.Close()
	}
	mu.Unlock()
	fmt.Printf("%s%d\n", flooderReport, opened.Load())
}

// TestSilentConnectionsCloseAfterFirstByteTimeout: a connection that sends
// nothing is dropped after firstByteTimeout, long before HeaderTimeout.
func TestSilentConnectionsCloseAfterFirstByteTimeout(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(ModeConnect, "", "")
	p := e.startProxy(e.config(gw.addr(), ModeConnect)) // HeaderTimeout 10s
	conn := dialProxy(t, p)
	start := time.Now()
	n, err := conn.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read = %d, %v; want EOF", n, err)
	}
	if took := time.Since(start); took < firstByteTimeout-200*time.Millisecond || took > firstByteTimeout+time.Second {
		t.Errorf("silent connection closed after %s, want about %s", took, firstByteTimeout)
	}
}

// TestSlowLorisGetsNoMoreThanHeaderTimeout: trickling a byte at a time
// does not extend the deadline for the whole header.
func TestSlowLorisGetsNoMoreThanHeaderTimeout(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(ModeConnect, "", "")
	cfg := e.config(gw.addr(), ModeConnect)
	cfg.HeaderTimeout = 3 * time.Second
	p := e.startProxy(cfg)
	conn := dialProxy(t, p)
	start := time.Now()
	header := "CONNECT " + apiTarget + " HTTP/1.1\r\nHost: " + strings.Repeat("x", 200)
	closed := make(chan time.Duration, 1)
	go func() {
		io.Copy(io.Discard, conn)
		closed <- time.Since(start)
	}()
	for i := 0; i < len(header); i++ {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte{header[i]}); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := <-closed
	if took < cfg.HeaderTimeout-200*time.Millisecond || took > cfg.HeaderTimeout+time.Second {
		t.Errorf("slow-loris connection closed after %s, want about %s", took, cfg.HeaderTimeout)
	}
}

// TestOldestPendingConnectionIsEvicted: one connection past the pending
// cap closes the oldest pending one at once, and an authenticated CONNECT
// still gets its tunnel.
func TestOldestPendingConnectionIsEvicted(t *testing.T) {
	e := newEnv(t)
	gw := e.startGateway(ModeConnect, "", "")
	p := e.startProxy(e.config(gw.addr(), ModeConnect))
	first := dialProxy(t, p)
	eventually(t, "the first connection to be pending", func() bool { return pendingCount(p) == 1 })
	for range p.maxPending {
		dialProxy(t, p)
	}
	first.SetReadDeadline(time.Now().Add(time.Second)) // well before firstByteTimeout
	if n, err := first.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("oldest pending connection: read = %d, %v; want EOF", n, err)
	}
	eventually(t, "the eviction to be counted", func() bool { return p.Stats().Evicted >= 1 })
	if got := pendingCount(p); got > p.maxPending {
		t.Errorf("%d pending connections, over the cap of %d", got, p.maxPending)
	}
	tn := connect(t, p, rawTarget, p.testAuth(), "echo\nping")
	expectStatus(t, tn, http.StatusOK)
	got := make([]byte, 4)
	if _, err := io.ReadFull(bufio.NewReader(tn.r), got); err != nil || string(got) != "ping" {
		t.Fatalf("echo = %q, %v; want ping", got, err)
	}
}

func pendingCount(p *Proxy) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending.Len()
}
