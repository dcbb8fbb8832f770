package localproxy

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// go.uber.org/goleak is not in this module's go.mod, so leaks are checked
// with this small stdlib equivalent: after each test (and after all of
// them) no goroutine may remain except the testing framework's own.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := waitForLeaks(5 * time.Second); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "leaked goroutines after all tests:\n\n%s\n", strings.Join(leaks, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// verifyNoLeaks fails t if goroutines started during t outlive its cleanup.
// Register it before anything else so its cleanup runs last.
func verifyNoLeaks(t testing.TB) {
	t.Cleanup(func() {
		if leaks := waitForLeaks(5 * time.Second); len(leaks) > 0 {
			t.Errorf("%d leaked goroutines:\n\n%s", len(leaks), strings.Join(leaks, "\n\n"))
		}
	})
}

func waitForLeaks(patience time.Duration) []string {
	deadline := time.Now().Add(patience)
	for {
		leaks := foreignGoroutines()
		if len(leaks) == 0 || time.Now().After(deadline) {
			return leaks
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// foreignGoroutines returns the stacks of all goroutines except the calling
// one and those parked inside the testing framework.
func foreignGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaks []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || isTestingGoroutine(g) {
			continue
		}
		leaks = append(leaks, g)
	}
	return leaks
}

func isTestingGoroutine(stack string) bool {
	lines := strings.Split(stack, "\n")
	// lines[0] is "goroutine N [state]:"; then function/file line pairs.
	for i := 1; i < len(lines); i += 2 {
		fn := lines[i]
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "sync.") {
			continue
		}
		return strings.HasPrefix(fn, "testing.") || strings.HasPrefix(fn, "os/signal.") || strings.HasPrefix(fn, "main.main(")
	}
	return false
}
