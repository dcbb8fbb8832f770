package doctor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/kubeapi"
)

// fakeProber answers every request with err (nil: success) and records
// the connection doctor asked for.
type fakeProber struct {
	err    error
	pinned []kubeapi.Pinned
}

func (f *fakeProber) Version(context.Context) (*kubeapi.VersionInfo, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &kubeapi.VersionInfo{GitVersion: "v1.32.4"}, nil
}

func (f *fakeProber) WhoAmI(context.Context) (*kubeapi.UserInfo, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &kubeapi.UserInfo{Username: "alice@example.test", Groups: []string{"readers", "devs"}}, nil
}

// Watch is a stream that stays silent until doctor closes it.
func (f *fakeProber) Watch(context.Context, string, url.Values) (io.ReadCloser, error) {
	if f.err != nil {
		return nil, f.err
	}
	silent, _ := io.Pipe()
	return silent, nil
}

func (f *fakeProber) Upgrade(context.Context, string, url.Values, http.Header) error { return f.err }

// faked is doctor's state after a passed binding check, with f as its
// client of the API server.
func faked(t *testing.T, f *fakeProber) (*DoctorOptions, *doctorState) {
	t.Helper()
	root := cmdtest.NewPair(t, nil, "Enterprise Root")
	o, st := doctorAt("https://"+cmdtest.TestHost, cmdtest.TestHost, root.CertPEM, root)
	if c := o.checkBinding(context.Background(), st); c.Status != StatusOK {
		t.Fatalf("checkBinding = %+v", c)
	}
	o.WatchTime = 100 * time.Millisecond
	o.NewProber = func(p kubeapi.Pinned) (kubeapi.Prober, error) {
		f.pinned = append(f.pinned, p)
		return f, nil
	}
	return o, st
}

var (
	errUnreachable = errors.New(`Get "https://kapi.example.com/version": dial tcp: connection refused`)
	errProxyPage   = apierrors.NewGenericServerResponse(http.StatusBadGateway, "GET", schema.GroupResource{}, "", "<html><body><h1>502 Bad Gateway</h1></body></html>", 0, true)
	errProxy401    = apierrors.NewGenericServerResponse(http.StatusUnauthorized, "POST", schema.GroupResource{}, "", "<html>401 Authorization Required</html>", 0, true)
	errAPIForbid   = apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("anonymous"))
	errAPI401      = apierrors.NewUnauthorized("Unauthorized")
	errAPINotFound = apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, probePod)
	errAPIInternal = apierrors.NewInternalError(errors.New("etcd is down"))
)

// TestDoctorAPIChecksTellTheAPIServerFromAProxy: the API server's own
// Status decides warn, ok or the token diagnosis; a proxy's page with the
// same code is named as not the API server; no answer says so.
func TestDoctorAPIChecksTellTheAPIServerFromAProxy(t *testing.T) {
	cases := []struct {
		check      string
		err        error
		status     Status
		detail     string
		fix        string
		notInCheck string
	}{
		{"version", nil, StatusOK, "API server v1.32.4", "", ""},
		{"version", errAPIForbid, StatusWarn, "refuses anonymous /version (HTTP 403 Forbidden)", "", ""},
		{"version", errAPI401, StatusWarn, "refuses anonymous /version (HTTP 401 Unauthorized)", "", ""},
		{"version", errAPIInternal, StatusFail, "/version: HTTP 500", notAPIFix, ""},
		{"version", errProxyPage, StatusFail, "/version: HTTP 502 (<html><body><h1>502 Bad Gateway", notAPIFix, ""},
		{"version", errUnreachable, StatusFail, "connection refused", "is the endpoint forwarding", ""},
		{"whoami", nil, StatusOK, "the API server sees alice@example.test (groups: readers, devs)", "", ""},
		{"whoami", errAPI401, StatusFail, "the API server rejected the token", "kubectl securekapi login c", ""},
		{"whoami", errProxy401, StatusFail, "HTTP 401 from something that is not the API server (<html>401 Authorization Required</html>)", "is the endpoint forwarding", "rejected the token"},
		{"whoami", errAPIForbid, StatusFail, "SelfSubjectReview: HTTP 403 Forbidden", "system:basic-user", ""},
		{"whoami", errAPINotFound, StatusFail, "SelfSubjectReview: HTTP 404", "kubectl auth whoami", ""},
		{"whoami", errAPIInternal, StatusFail, "SelfSubjectReview: HTTP 500", "API server's logs", ""},
		{"whoami", errUnreachable, StatusFail, "connection refused", "run doctor again", ""},
		{"watch", errAPIInternal, StatusFail, "the API server refused a watch", "API server's logs", ""},
		{"watch", nil, StatusOK, "a silent watch stayed open for 100ms", "", ""},
		{"watch", errAPIForbid, StatusWarn, "does not let you open a watch on pods in namespace default (403)", "set the context's namespace", ""},
		{"watch", errAPI401, StatusFail, "the API server rejected the token", "", ""},
		{"watch", errProxyPage, StatusFail, "a watch on pods in namespace default got HTTP 502 from something that is not the API server", "is the endpoint forwarding", ""},
		{"watch", errUnreachable, StatusFail, "open a watch: Get", "is the endpoint forwarding", ""},
		{"upgrade", nil, StatusOK, "switched protocols", "", ""},
		{"upgrade", errAPINotFound, StatusOK, "reached the API server: it answered 404 NotFound", "", ""},
		{"upgrade", errAPIForbid, StatusOK, "it answered 403 Forbidden", "", ""},
		{"upgrade", errAPI401, StatusFail, "the API server rejected the token", "", ""},
		{"upgrade", errAPIInternal, StatusFail, "the API server answered the exec upgrade request with 500 InternalError", "Upgrade requests", ""},
		{"upgrade", errProxyPage, StatusFail, "got HTTP 502 from something that is not the API server (<html>", "Upgrade requests", ""},
		{"upgrade", errUnreachable, StatusFail, "upgrade request: Get", "Upgrade requests", ""},
	}
	for _, tc := range cases {
		f := &fakeProber{err: tc.err}
		o, st := faked(t, f)
		checks := map[string]func(context.Context, *doctorState) Check{
			"version": o.checkVersion, "whoami": o.checkWhoami, "watch": o.checkWatch, "upgrade": o.checkUpgrade}
		c := checks[tc.check](context.Background(), st)
		if c.Status == StatusFail && c.Fix == "" {
			t.Errorf("%s on %v fails with no fix: %+v", tc.check, tc.err, c)
		}
		if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) ||
			(tc.notInCheck != "" && strings.Contains(c.Detail+c.Fix, tc.notInCheck)) {
			t.Errorf("%s on %v = %+v\nwant %s with %q, fix %q", tc.check, tc.err, c, tc.status, tc.detail, tc.fix)
		}
	}
}

// TestDoctorAsksWithTheTokenOnlyWhereTheBindingAllows: /version goes
// without the token; the token checks go with it, under the binding's
// pins and name, and not at all before the binding was checked.
func TestDoctorAsksWithTheTokenOnlyWhereTheBindingAllows(t *testing.T) {
	f := &fakeProber{}
	o, st := faked(t, f)
	ctx := context.Background()
	for _, check := range []func(context.Context, *doctorState) Check{o.checkVersion, o.checkWhoami, o.checkWatch, o.checkUpgrade} {
		check(ctx, st)
	}
	if len(f.pinned) != 4 {
		t.Fatalf("%d connections, want 4", len(f.pinned))
	}
	for i, p := range f.pinned {
		wantToken := st.token
		if i == 0 {
			wantToken = ""
		}
		if p.Token != wantToken || p.Policy.ServerName != cmdtest.TestHost || len(p.Policy.Pins) != 1 || p.Policy.Pins[0] != st.binding.Pins[0] || len(p.Policy.CABundle) != 1 {
			t.Errorf("connection %d: token %q, policy %+v; want token %q under the binding's pin and name", i, p.Token, p.Policy, wantToken)
		}
	}

	f = &fakeProber{}
	o, st = faked(t, f)
	st.binding.Pins = nil // as before checkBinding passed
	for name, check := range map[string]func(context.Context, *doctorState) Check{"whoami": o.checkWhoami, "watch": o.checkWatch, "upgrade": o.checkUpgrade} {
		if c := check(ctx, st); c.Status != StatusFail || !strings.Contains(c.Detail, "no token may be sent") {
			t.Errorf("%s before the binding check = %+v, want a refusal", name, c)
		}
	}
	if len(f.pinned) != 0 {
		t.Errorf("a client was built for %+v", f.pinned)
	}
}
