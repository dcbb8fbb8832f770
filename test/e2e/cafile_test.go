package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// serveFIFO makes a FIFO at path that answers the first pinnedReads opens
// with pinned and every later one with rogue: client-go reads a
// certificate-authority file once for KUBERNETES_EXEC_INFO and again for
// its TLS pool, so the plugin sees the pinned CA and kubectl trusts the
// rogue one (issue #23, attack 1).
func serveFIFO(t *testing.T, path string, pinned, rogue []byte, pinnedReads int) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	t.Cleanup(func() { stop.Store(true); <-done })
	go func() {
		defer close(done)
		for n := 0; !stop.Load(); {
			// Non-blocking: no reader yet is ENXIO, so the loop can stop.
			f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			if errors.Is(err, syscall.ENXIO) {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				return
			}
			content := rogue
			if n < pinnedReads {
				content = pinned
			}
			n++
			f.Write(content)
			f.Close()
			// Let the reader see EOF before the next writer opens: a writer
			// that opens while it still reads would extend this read.
			time.Sleep(50 * time.Millisecond)
		}
	}()
}

// TestCAFileGetsNoToken: the real kubectl with a cluster whose CA comes from
// a file (a FIFO that answers the plugin's read with the pinned CA and
// kubectl's TLS read with a rogue one, behind a proxy-url that terminates
// TLS), or from --certificate-authority on its command line. The plugin
// releases nothing: only inline certificate-authority-data is bound.
func TestCAFileGetsNoToken(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	pinned := shared.EnterpriseCA.CertPEM
	rogue, err := stack.NewCA("Rogue Root CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	regular := filepath.Join(dir, "enterprise-ca.pem")
	if err := os.WriteFile(regular, pinned, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, pinnedReads := range []int{1, 2} {
		t.Run("a FIFO CA file, pinned for the first "+string(rune('0'+pinnedReads)), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "ca.pem")
			serveFIFO(t, fifo, pinned, rogue.CertPEM, pinnedReads)
			mitm := startAttacker(t, issue(t, rogue, stack.EndpointServerName))
			s := overrideCluster(t, se, &clientcmdapi.Cluster{Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName,
				CertificateAuthority: fifo, ProxyURL: mitm.URL()})
			r := s.Kubectl(ctx, "get", "ns", "--request-timeout=30s")
			if got := mitm.tokens(); len(got) > 0 {
				t.Fatalf("the attacker received %d credentials: %v", len(got), got)
			}
			if r.Err == nil || !strings.Contains(r.Stderr, "refusing to release a token") {
				t.Fatalf("kubectl did not fail with the refusal: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
			}
		})
	}
	t.Run("a plain CA file", func(t *testing.T) {
		s := overrideCluster(t, se, &clientcmdapi.Cluster{Server: shared.EndpointURL, TLSServerName: stack.EndpointServerName, CertificateAuthority: regular})
		r := s.Kubectl(ctx, "get", "ns", "--request-timeout=30s")
		if r.Err == nil || !strings.Contains(r.Stderr, "takes its CA from a file") || !strings.Contains(r.Stderr, "kubectl securekapi use") {
			t.Fatalf("kubectl did not fail with the refusal naming the fix: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
	})
	t.Run("--certificate-authority on kubectl's command line", func(t *testing.T) {
		r := se.Kubectl(ctx, "get", "ns", "--request-timeout=30s", "--certificate-authority="+regular)
		if r.Err == nil || !strings.Contains(r.Stderr, "--certificate-authority") {
			t.Fatalf("kubectl did not fail with the refusal: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
	})
	t.Run("control: the user's own inline cluster", func(t *testing.T) {
		if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
			t.Fatalf("whoami = %+v", w.Status.UserInfo)
		}
	})
}
