package doctor

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/kubeapi"
)

// The streaming probe: watches and exec/port-forward upgrades are what
// break first behind an ingress or proxy (idle timeouts cut watches,
// upgrades get refused or answered by the proxy), while plain requests
// keep working.

// probePod names a pod that does not exist: the probe wants the API
// server's 404 (or 403), never a running exec.
const probePod = "securekapi-doctor-no-such-pod"

// idleTimeoutFix names the settings that cut idle streams on the common hops.
const idleTimeoutFix = "raise the idle timeouts of the hop in front of the API server above how long watches stay silent " +
	"(HAProxy: `timeout server` and `timeout tunnel`, as `kubectl securekapi expose --via haproxy` writes them, 1h; " +
	"ingress-nginx: proxy-read-timeout; Envoy Gateway: the route's timeouts and the idle timeout of the ClientTrafficPolicy)"

// checkWatch holds a watch that sees no events for --watch-time: a hop
// that cuts idle connections ends it early.
func (o *DoctorOptions) checkWatch(ctx context.Context, st *doctorState) Check {
	if c, skip := o.streamingSkip(st); skip {
		return c
	}
	// The field selector matches nothing, so the stream stays silent, the
	// way a quiet watch does. timeoutSeconds outlasts the hold, so the API
	// server does not end the watch itself. resourceVersion 0 lets the
	// watch cache serve it at once (with none, kube-apiserver may wait for
	// the cache to catch up with etcd and end the watch with "Too large
	// resource version").
	q := url.Values{"resourceVersion": {"0"}, "fieldSelector": {"metadata.name=" + probePod},
		"timeoutSeconds": {fmt.Sprint(int(o.WatchTime/time.Second) + 60)}}
	what := "a watch on pods in namespace " + st.namespace
	api, err := o.prober(st, true)
	var stream io.ReadCloser
	started := time.Now()
	if err == nil {
		stream, err = api.Watch(ctx, "/api/v1/namespaces/"+url.PathEscape(st.namespace)+"/pods", q)
	}
	if err != nil {
		if c, answered := o.streamRefused(st, err, what); answered {
			return c
		}
		return fail("is the endpoint forwarding to the API server?", "open a watch: %v", err)
	}
	defer stream.Close()
	// The last bytes of the stream say why it ended when the API server
	// ended it (an ERROR event).
	tail := &tailBuffer{max: 300}
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(tail, stream)
		ended <- err
	}()
	hold := time.NewTimer(o.WatchTime)
	defer hold.Stop()
	select {
	case <-hold.C:
		return ok("a silent watch stayed open for %s through the endpoint", o.WatchTime)
	case err := <-ended:
		how := "closed"
		if err != nil {
			how = "broke (" + err.Error() + ")"
		}
		if got := tail.String(); got != "" {
			return fail("the last data says why: an API server Status names its reason; a page from the hop means "+idleTimeoutFix, "the watch %s after %s, before the %s hold ended; its last data: %s", how, time.Since(started).Round(time.Second), o.WatchTime, excerpt(got))
		}
		return fail(idleTimeoutFix, "the watch %s after %s without an event, before the %s hold ended: something between here and the API server cuts idle connections",
			how, time.Since(started).Round(time.Second), o.WatchTime)
	case <-ctx.Done():
		return fail("doctor was interrupted before the --watch-time hold ended: run it again, or with --quick to skip the streaming probe", "the watch did not finish: %v", ctx.Err())
	}
}

// checkUpgrade sends the HTTP/1.1 upgrade request kubectl exec sends
// (WebSocket, the channel protocols of kubectl 1.30 and later) for a pod
// that does not exist: the API server answers 404, or 403 when exec is
// not allowed; a hop that mishandles upgrades answers itself. It is a raw
// request (kubeapi's Upgrade) over the same pinned client as the other
// checks: client-go's SPDY and WebSocket executors would run the exec, not
// probe who answers.
func (o *DoctorOptions) checkUpgrade(ctx context.Context, st *doctorState) Check {
	if c, skip := o.streamingSkip(st); skip {
		return c
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	header := http.Header{
		"Connection":             {"Upgrade"},
		"Upgrade":                {"websocket"},
		"Sec-Websocket-Version":  {"13"},
		"Sec-Websocket-Key":      {base64.StdEncoding.EncodeToString(key)},
		"Sec-Websocket-Protocol": {"v5.channel.k8s.io, v4.channel.k8s.io"},
	}
	params := url.Values{"command": {"true"}, "stdout": {"true"}}
	api, err := o.prober(st, true)
	if err == nil {
		err = api.Upgrade(ctx, "/api/v1/namespaces/"+url.PathEscape(st.namespace)+"/pods/"+probePod+"/exec", params, header)
	}
	s, fromAPI := apiStatus(err)
	switch {
	case err == nil:
		return ok("the API server switched protocols for exec (pod %s/%s exists?)", st.namespace, probePod)
	case fromAPI && (s.Code == http.StatusNotFound || s.Code == http.StatusForbidden):
		return ok("an exec upgrade request for a missing pod reached the API server: it answered %d %s", s.Code, s.Reason)
	case fromAPI && s.Code == http.StatusUnauthorized:
		return o.diagnoseRejectedToken(st)
	case fromAPI:
		return fail(upgradeFix, "the API server answered the exec upgrade request with %d %s: %s", s.Code, s.Reason, s.Message)
	}
	if code, body, answered := kubeapi.UnexpectedAnswer(err); answered {
		return fail(upgradeFix, "the exec upgrade request got HTTP %d from something that is not the API server (%s)", code, excerpt(body))
	}
	return fail(upgradeFix, "upgrade request: %v", err)
}

const upgradeFix = "let the hop in front of the API server pass HTTP/1.1 Upgrade requests (WebSocket and SPDY/3.1) through to it: " +
	"kubectl exec, attach, cp and port-forward need them (HAProxy in mode http does; Envoy Gateway and ingress controllers need upgrades enabled for the route)"

// streamingSkip says why the streaming probe does not run.
func (o *DoctorOptions) streamingSkip(st *doctorState) (Check, bool) {
	switch {
	case o.Quick:
		return Check{Status: StatusSkip, Detail: "--quick skips the streaming probe"}, true
	case st.token == "":
		return Check{Status: StatusSkip, Detail: "no valid cached token to ask with"}, true
	}
	return Check{}, false
}

// streamRefused explains an answer refusing a streaming request; false
// when err is no answer at all.
func (o *DoctorOptions) streamRefused(st *doctorState, err error, what string) (Check, bool) {
	s, fromAPI := apiStatus(err)
	switch {
	case fromAPI && s.Code == http.StatusUnauthorized:
		return o.diagnoseRejectedToken(st), true
	case fromAPI && s.Code == http.StatusForbidden:
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("the API server does not let you open %s (403), so the hop's idle timeout was not measured", what),
			Fix: "run doctor in a namespace where you may watch pods: set the context's namespace"}, true
	case fromAPI:
		return fail("the API server failed the request: run doctor again; if this persists, ask the platform owner to check the API server's logs", "the API server refused %s: %d %s: %s", what, s.Code, s.Reason, s.Message), true
	}
	if code, body, answered := kubeapi.UnexpectedAnswer(err); answered {
		return fail("is the endpoint forwarding to the API server?", "%s got HTTP %d from something that is not the API server (%s)", what, code, excerpt(body)), true
	}
	return Check{}, false
}

// excerpt is the start of a proxy's answer, on one line, for the message.
func excerpt(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	if s == "" {
		return "empty body"
	}
	return s
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
