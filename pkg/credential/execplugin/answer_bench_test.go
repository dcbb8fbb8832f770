package execplugin

import (
	"io"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
)

// BenchmarkAnswer is the cached answer in process, every check included
// (the binding, the caller's kubeconfig, the cache directory, the approval,
// the store): what the small program does after its start-up. With the
// parent read from /proc, as the real program reads it.
func BenchmarkAnswer(b *testing.B) {
	h := newHarness(b)
	h.put(b, idToken(issuer, client, now.Add(10*time.Minute)))
	info := h.execInfo(server, h.caPEM)
	for name, caller := range map[string]func() *callerconfig.Caller{"parent": callerconfig.Parent, "none": nil} {
		b.Run(name, func(b *testing.B) {
			p := Process{Args: h.args(), Stdout: io.Discard, Stderr: io.Discard, Now: func() time.Time { return now }, Caller: caller,
				Getenv: func(k string) string {
					if k == "KUBERNETES_EXEC_INFO" {
						return info
					}
					return ""
				}}
			for b.Loop() {
				if ok, err := Answer(p); !ok || err != nil {
					b.Fatalf("Answer = %v, %v", ok, err)
				}
			}
		})
	}
}
