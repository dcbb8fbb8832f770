package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// Interop matrix (issue 19): the tunnel through each gateway as platform
// owners deploy it: the package's defaults plus the README's snippet, the
// lines for mutual TLS and the allowed target, and nothing else. Squid
// runs without sslcontext= too, the way many guides set it up, where
// OpenSSL refuses every resumed TLS handshake.

// readmeSnippet is the README's gateway snippet NAME: the fenced block
// after "<!-- gateway-snippet: NAME -->".
func readmeSnippet(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- gateway-snippet: " + name + " -->\n```\n"
	_, rest, ok := strings.Cut(string(data), marker)
	if !ok {
		t.Fatalf("README.md has no %q snippet", name)
	}
	body, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("README.md: the %q snippet is not closed", name)
	}
	return body
}

// withoutSSLContext is the Squid snippet without sslcontext=.
func withoutSSLContext(t *testing.T, snippet string) string {
	t.Helper()
	out := strings.Replace(snippet, " sslcontext=securekapi", "", 1)
	if out == snippet {
		t.Fatalf("the Squid snippet has no sslcontext=securekapi:\n%s", snippet)
	}
	return out
}

func TestTunnelInterop(t *testing.T) {
	squid := func(t *testing.T) string { return readmeSnippet(t, "squid") }
	cases := []struct {
		name    string
		kind    stack.GatewayKind
		snippet func(t *testing.T) string
		// doctor's tunnel check status: warn for a gateway that refuses
		// resumption.
		doctor string
	}{
		{"squid without sslcontext", stack.Squid, func(t *testing.T) string { return withoutSSLContext(t, squid(t)) }, "warn"},
		{"squid with sslcontext", stack.Squid, squid, "ok"},
		{"stunnel", stack.Stunnel, func(t *testing.T) string { return readmeSnippet(t, "stunnel") }, "ok"},
		{"haproxy", stack.HAProxy, func(t *testing.T) string { return readmeSnippet(t, "haproxy") }, "ok"},
		{"nginx", stack.Nginx, func(t *testing.T) string { return readmeSnippet(t, "nginx") }, "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each has its own gateway and session: 30 s watches in
			// parallel, not in series.
			t.Parallel()
			gw, err := shared.StartGatewaySnippet(context.Background(), tc.kind, tc.snippet(t))
			if err != nil {
				t.Fatalf("start %s from the README snippet: %v", tc.kind, err)
			}
			t.Cleanup(func() {
				gw.Close()
				for _, pid := range gw.Pids() {
					if stack.Alive(pid) {
						t.Errorf("%s (pid %d) outlived its test", gw.Kind, pid)
					}
				}
			})
			se := tunnelSession(t, gw)
			testInteropRun(t, se, gw)
			testInteropDoctor(t, se, gw, tc.doctor)
		})
	}
}

// testInteropRun: one `run` carries several kubectl calls (whoami, get, a
// watch held for 30 s), then the gateway restarts under the same proxy and
// new kubectl calls still get through.
func testInteropRun(t *testing.T, se *stack.Session, gw *stack.Gateway) {
	ctx := context.Background()
	ns := fmt.Sprintf("interop-%s-%d", gw.Kind, time.Now().UnixNano()%1_000_000)
	if out, err := shared.AdminKubectl(ctx, nil, "create", "namespace", ns); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_, _ = shared.AdminKubectl(context.Background(), nil, "delete", "namespace", ns, "--wait=false")
	})
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	// The script signals its progress with files and waits for the test's
	// "stop-watch" (after 30 s and every event) and "restarted".
	script := `set -u
whoami() { kubectl auth whoami -o jsonpath='{.status.userInfo.username}' && echo; }
whoami || exit 11
kubectl get namespaces -o name || exit 12
kubectl get configmaps -n "$NS" -w -o name --request-timeout=0 >"$DIR/watch.out" 2>"$DIR/watch.err" &
watch=$!
touch "$DIR/watching"
start=$(date +%s)
for i in $(seq 900); do [ -e "$DIR/stop-watch" ] && break; sleep 0.1; done
kill -0 "$watch" 2>/dev/null || { echo "the watch ended early" >&2; exit 13; }
[ $(( $(date +%s) - start )) -ge 30 ] || { echo "the watch was stopped before 30 s" >&2; exit 17; }
kill "$watch"; wait "$watch"
touch "$DIR/watched"
for i in $(seq 600); do [ -e "$DIR/restarted" ] && break; sleep 0.1; done
[ -e "$DIR/restarted" ] || exit 14
whoami || exit 15
kubectl get namespaces -o name || exit 16
`
	done := make(chan stack.Result, 1)
	go func() {
		s := *se
		s.Env = append(append([]string{}, se.Env...), "NS="+ns, "DIR="+dir)
		done <- s.Securekapi(ctx, "run", "e2e", "--", "sh", "-c", script)
	}()
	waitFile := func(name string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			if _, err := os.Stat(file(name)); err == nil {
				return
			}
			select {
			case r := <-done:
				t.Fatalf("run ended (%v) before %s:\n%s%s\ngateway:\n%s", r.Err, name, r.Stdout, r.Stderr, gw.LogTail())
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s within %s; gateway:\n%s", name, within, gw.LogTail())
			}
		}
	}
	waitFile("watching", 60*time.Second)
	watchStart := time.Now()
	time.Sleep(2 * time.Second) // let the watch open
	// Events over the whole 30 s, then wait for the last to arrive.
	var created []string
	for i := 0; time.Since(watchStart) < 30*time.Second; i++ {
		name := fmt.Sprintf("cm-%02d", i)
		if o, err := shared.AdminKubectl(ctx, nil, "create", "configmap", name, "-n", ns); err != nil {
			t.Fatalf("create configmap: %v\n%s", err, o)
		}
		created = append(created, name)
		time.Sleep(4 * time.Second)
	}
	missing := func() []string {
		watched, _ := os.ReadFile(file("watch.out"))
		var out []string
		for _, name := range created {
			if !strings.Contains(string(watched), "configmap/"+name+"\n") {
				out = append(out, name)
			}
		}
		return out
	}
	for deadline := time.Now().Add(15 * time.Second); len(missing()) > 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		watched, _ := os.ReadFile(file("watch.out"))
		watchErr, _ := os.ReadFile(file("watch.err"))
		t.Errorf("the watch through %s missed %v of %d configmaps:\n%s\n%s", gw.Kind, m, len(created), watched, watchErr)
	}
	if err := os.WriteFile(file("stop-watch"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFile("watched", 30*time.Second)

	gw.Stop()
	if err := gw.Restart(ctx); err != nil {
		t.Fatalf("restart %s: %v", gw.Kind, err)
	}
	if err := os.WriteFile(file("restarted"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var r stack.Result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("run did not finish after the restart; gateway:\n%s", gw.LogTail())
	}
	if r.Err != nil {
		t.Fatalf("run through %s: %v (exit %d)\n%s%s\ngateway:\n%s", gw.Kind, r.Err, exitCode(r.Err), r.Stdout, r.Stderr, gw.LogTail())
	}
	if n := strings.Count(r.Stdout, stack.Reader.Email+"\n"); n != 2 {
		t.Errorf("whoami through %s printed %s %d times, want 2 (before and after the restart):\n%s", gw.Kind, stack.Reader.Email, n, r.Stdout)
	}
	if n := strings.Count(r.Stdout, "namespace/"+ns+"\n"); n != 2 {
		t.Errorf("get namespaces through %s listed %s %d times, want 2:\n%s", gw.Kind, ns, n, r.Stdout)
	}
	if len(gw.Pids()) != 2 {
		t.Errorf("%s ran as %d processes, want 2 (started, restarted)", gw.Kind, len(gw.Pids()))
	}
}

// testInteropDoctor: doctor's tunnel step passes, and warns when the
// gateway refuses TLS resumption, naming the setting.
func testInteropDoctor(t *testing.T, se *stack.Session, gw *stack.Gateway, want string) {
	checks, _ := runDoctor(t, se)
	for _, c := range checks {
		if c.Name != "tunnel" {
			continue
		}
		if c.Status != want {
			t.Errorf("doctor's tunnel check through %s: %s, want %s: %s (fix: %s)", gw.Kind, c.Status, want, c.Detail, c.Fix)
		}
		if want == "warn" && (!strings.Contains(c.Detail, "refuses to resume TLS sessions") || !strings.Contains(c.Fix, "sslcontext=")) {
			t.Errorf("doctor's warning should say the gateway refuses resumption and name sslcontext=: %s (fix: %s)", c.Detail, c.Fix)
		}
		return
	}
	t.Errorf("doctor has no tunnel check: %+v", checks)
}
