package secretservice

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReply: whatever the session bus sends back, reading it neither
// panics nor reads past what the message declares; a reply that does not
// decode is an error, never a secret.
func FuzzReply(f *testing.F) {
	ok := methodCall(7, "d", "/p", "i", "m", "ao", func(e *encoder) {
		e.uint32(uint32(len("/a") + 1 + 4))
		e.string("/a")
	})
	ok[1] = msgReturn
	f.Add(ok)
	f.Add(methodCall(1, serviceName, servicePath, propertiesIfc, "Get", "ss", func(e *encoder) { e.string("a"); e.string("b") }))
	f.Add([]byte("l\x02\x01\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &reader{br: bufio.NewReader(bytes.NewReader(data))}
		for i := 0; i < 4; i++ {
			m, err := r.message()
			if err != nil {
				return
			}
			if len(m.body) > len(data) {
				t.Fatalf("body of %d bytes from %d bytes of input", len(m.body), len(data))
			}
			for _, sig := range []string{"v", "ao", "vo", "(oayays)"} {
				m.signature = sig
				_, _ = m.variantObjectPaths()
				_, _ = m.objectPaths()
				_, _ = m.openSessionPath()
				_, _ = m.variantBool()
				if v, err := m.secretValue(); err == nil && !bytes.Contains(data, []byte(v)) {
					t.Fatalf("secret %q is not in the input", v)
				}
			}
		}
	})
}
