package localproxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
)

const (
	sinkTarget       = "sink.example.test:443"
	throughputChunk  = 64 << 20
	idleTunnelsCount = 200
)

// BenchmarkTunnelThroughput pushes 64 MiB per op over end-to-end TLS to a
// sink: directly, through the gateway alone, and through proxy+gateway, so
// MB/s can be compared.
func BenchmarkTunnelThroughput(b *testing.B) {
	e := newEnv(b)
	sink := serveTCP(b, tls.NewListener(listenLoopback(b), &tls.Config{
		Certificates: []tls.Certificate{serverCert(b, e.apiCA, "kapi.example.test")},
	}), sinkHandler)
	e.routes[sinkTarget] = sink.addr()

	dialers := map[string]func(b *testing.B) net.Conn{
		"direct-tls": func(b *testing.B) net.Conn {
			c, err := net.Dial("tcp", sink.addr())
			if err != nil {
				b.Fatal(err)
			}
			return c
		},
	}
	// The same nested TLS path through the gateway, minus the proxy: the
	// fair baseline for the proxy's own overhead, since the in-process
	// gateway's TLS layer costs CPU that direct TLS does not pay.
	bare := e.startGateway(ModeConnect, "", "")
	dialers["gateway-without-proxy"] = func(b *testing.B) net.Conn {
		c, err := tls.Dial("tcp", bare.addr(), &tls.Config{
			ServerName: "gateway.test", RootCAs: testpki.Pool(e.gatewayCA), Certificates: []tls.Certificate{e.clientCert},
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := requestTunnel(c, sinkTarget, "gateway"); err != nil {
			b.Fatal(err)
		}
		return c
	}
	for _, mode := range []Mode{ModeConnect, ModeDirect} {
		gw := e.startGateway(mode, "", sink.addr())
		cfg := e.config(gw.addr(), mode)
		cfg.AllowedTargets = append(cfg.AllowedTargets, sinkTarget)
		p := e.startProxy(cfg)
		dialers["proxy-"+string(mode)] = func(b *testing.B) net.Conn {
			tn := connect(b, p, sinkTarget, p.testAuth(), "")
			expectStatus(b, tn, http.StatusOK)
			tn.conn.SetDeadline(time.Time{})
			return tn.conn
		}
	}
	for _, name := range []string{"direct-tls", "gateway-without-proxy", "proxy-connect", "proxy-direct"} {
		b.Run(name, func(b *testing.B) {
			raw := dialers[name](b)
			conn := tls.Client(raw, &tls.Config{ServerName: "kapi.example.test", RootCAs: testpki.Pool(e.apiCA)})
			defer conn.Close()
			if err := conn.Handshake(); err != nil {
				b.Fatal(err)
			}
			chunk := make([]byte, 256<<10)
			ack := make([]byte, 1)
			b.SetBytes(throughputChunk)
			b.ResetTimer()
			for range b.N {
				for sent := 0; sent < throughputChunk; sent += len(chunk) {
					if _, err := conn.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := io.ReadFull(conn, ack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sinkHandler reads 64 MiB at a time and acknowledges each with one byte.
func sinkHandler(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		for remaining := throughputChunk; remaining > 0; {
			n, err := c.Read(buf[:min(len(buf), remaining)])
			if err != nil {
				return
			}
			remaining -= n
		}
		if _, err := c.Write([]byte{1}); err != nil {
			return
		}
	}
}

// BenchmarkTunnelSetup measures CONNECT to the proxy, the gateway dial and
// mutual-TLS handshake (resumed after the first), and the 200.
func BenchmarkTunnelSetup(b *testing.B) {
	for _, mode := range []Mode{ModeConnect, ModeDirect} {
		b.Run(string(mode), func(b *testing.B) {
			e := newEnv(b)
			gw := e.startGateway(mode, "", e.raw.addr())
			p := e.startProxy(e.config(gw.addr(), mode))
			request := "CONNECT " + rawTarget + " HTTP/1.1\r\nHost: " + rawTarget + "\r\nProxy-Authorization: " + p.testAuth() + "\r\n\r\n"
			b.ResetTimer()
			for range b.N {
				conn, err := net.Dial("tcp", p.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				io.WriteString(conn, request)
				resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: http.MethodConnect})
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("CONNECT: %v %v", resp, err)
				}
				conn.Close()
			}
		})
	}
}

// BenchmarkIdleTunnelMemory holds idleTunnelsCount idle tunnels and reports
// heap plus goroutine stacks per tunnel. "total" includes the in-process test
// gateway and backend; "proxy" subtracts a baseline of the same number of
// tunnels opened straight to the gateway, leaving roughly the proxy's share.
func BenchmarkIdleTunnelMemory(b *testing.B) {
	e := newEnv(b)
	gw := e.startGateway(ModeConnect, "", "")
	p := e.startProxy(e.config(gw.addr(), ModeConnect))
	gatewayTLS := &tls.Config{ServerName: "gateway.test", RootCAs: testpki.Pool(e.gatewayCA), Certificates: []tls.Certificate{e.clientCert}}

	viaProxy := func(b *testing.B) net.Conn {
		tn := connect(b, p, rawTarget, p.testAuth(), "hold\n")
		expectStatus(b, tn, http.StatusOK)
		return tn.conn
	}
	straightToGateway := func(b *testing.B) net.Conn {
		c, err := tls.Dial("tcp", gw.addr(), gatewayTLS)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := requestTunnel(c, rawTarget, "gateway"); err != nil {
			b.Fatal(err)
		}
		io.WriteString(c, "hold\n")
		return c
	}
	var total, proxyShare, goroutines float64
	for range b.N {
		base, _ := memoryPerTunnel(b, straightToGateway, func() bool { return true })
		all, g := memoryPerTunnel(b, viaProxy, func() bool { return p.Stats().Active == idleTunnelsCount })
		total, proxyShare, goroutines = all, all-base, g
		eventually(b, "tunnels to close", func() bool { return p.Stats().Active == 0 })
	}
	b.ReportMetric(total, "B/tunnel-total")
	b.ReportMetric(proxyShare, "B/tunnel-proxy")
	b.ReportMetric(goroutines, "goroutines/tunnel")
}

// memoryPerTunnel opens idleTunnelsCount tunnels with open, waits for ready,
// and returns the growth of HeapInuse+StackInuse and of the goroutine count
// per tunnel; then it closes them.
func memoryPerTunnel(b *testing.B, open func(*testing.B) net.Conn, ready func() bool) (bytes, goroutines float64) {
	settle := func() (uint64, int) {
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse, runtime.NumGoroutine()
	}
	memBefore, gBefore := settle()
	conns := make([]net.Conn, 0, idleTunnelsCount)
	for range idleTunnelsCount {
		conns = append(conns, open(b))
	}
	eventually(b, fmt.Sprintf("%d tunnels", idleTunnelsCount), ready)
	memAfter, gAfter := settle()
	for _, c := range conns {
		c.Close()
	}
	return float64(int64(memAfter)-int64(memBefore)) / idleTunnelsCount,
		float64(gAfter-gBefore) / idleTunnelsCount
}
