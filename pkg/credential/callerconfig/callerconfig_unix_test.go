//go:build unix

package callerconfig

import (
	"path/filepath"
	"syscall"
	"testing"
)

// A kubeconfig that is a FIFO may answer kubectl and securekapi
// differently: it is refused, and read without blocking.
func TestScanRefusesAFIFOKubeconfig(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(&Caller{Getenv: env(map[string]string{"KUBECONFIG": fifo})}); err == nil {
		t.Error("a FIFO kubeconfig was read")
	}
}
