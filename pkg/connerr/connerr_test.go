package connerr

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestRefused dials a port that was just closed: the OS's own error for it
// is Refused, and nothing else is.
func TestRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err == nil {
		conn.Close()
		t.Skipf("something took over %s between close and dial", addr)
	}
	if !Refused(err) {
		t.Errorf("Refused(%v) = false (%#v), want true", err, errors.Unwrap(err))
	}
	if Reset(err) {
		t.Errorf("Reset(%v) = true, want false", err)
	}
}

// TestReset reads from a connection the server aborted (SO_LINGER 0 sends
// an RST): the OS's own error for it is Reset, and not Refused.
func TestReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		// Abort only once the dial is complete on both sides.
		c.Read(make([]byte, 1))
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Read(make([]byte, 1))
	if errors.Is(err, io.EOF) {
		t.Skip("the OS turned the abort into a clean close")
	}
	if !Reset(err) {
		t.Errorf("Reset(%v) = false (%#v), want true", err, errors.Unwrap(err))
	}
	if Refused(err) {
		t.Errorf("Refused(%v) = true, want false", err)
	}
	if !errors.Is(err, ErrReset) {
		t.Errorf("errors.Is(%v, ErrReset) = false", err)
	}
}

func TestOthersAreNeither(t *testing.T) {
	for _, err := range []error{nil, io.EOF, errors.New("connection refused")} {
		if Refused(err) || Reset(err) {
			t.Errorf("Refused/Reset(%v) = true, want false", err)
		}
	}
}
