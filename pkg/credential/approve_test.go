package credential

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

const (
	pinA = pinning.Pin("sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	pinB = pinning.Pin("sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
)

// clusterA is the cluster the harness approves; rogue names the same
// issuer and client from its own server with its own pin.
var (
	clusterA = binding.Binding{Server: "https://kapi.example.test", Pins: []pinning.Pin{pinA}}
	rogue    = binding.Binding{Server: "https://rogue.example.test", Pins: []pinning.Pin{pinB}}
)

// fakeApprovals is an in-memory approvals file. Manager.Token may load it
// from several goroutines at once (TestParallelCallsMintOnce).
type fakeApprovals struct {
	mu    sync.Mutex
	file  binding.ApprovalsFile
	err   error
	loads int
}

func (f *fakeApprovals) Load() (*binding.ApprovalsFile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.err != nil {
		return nil, f.err
	}
	c := f.file
	return &c, nil
}

func approvedFor(b binding.Binding, s oidc.Settings) *fakeApprovals {
	f := &fakeApprovals{}
	t := b.ApprovalTarget()
	f.file.Approve(binding.ApprovalFor(keyFor(s).ID(), t))
	return f
}

// A rogue cluster naming our issuer and client gets nothing, even with a
// valid token cached and kubectl interactive: no store read, no login.
func TestUnapprovedClusterGetsNoToken(t *testing.T) {
	h := newHarness(t, func() (oidc.Issuer, error) { return nil, nil })
	h.put(t, idToken(t, issuer, clientID, now.Add(10*time.Minute)), "r1")
	h.manager.Login = func(context.Context, oidc.Issuer) (*oidc.Tokens, error) {
		h.logins++
		return nil, errors.New("unexpected login")
	}
	h.store.getErr = errors.New("the store must not be read for an unapproved cluster")
	for _, interactive := range []bool{false, true} {
		r := request(interactive)
		r.Binding, r.LoginCommand = rogue, "kubectl securekapi login rogue"
		ts, err := h.manager.Token(t.Context(), r)
		var na *binding.ErrNotApproved
		if ts != nil || !errors.As(err, &na) {
			t.Fatalf("interactive=%v: Token() = %v, %v; want ErrNotApproved", interactive, ts, err)
		}
		for _, want := range []string{"kubectl securekapi login rogue", rogue.Server, issuer} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	}
	if h.logins != 0 || h.discovers != 0 {
		t.Fatalf("%d logins, %d discoveries for an unapproved cluster", h.logins, h.discovers)
	}
}

// The approved cluster, named the way kubeconfig may spell it (default
// port, trailing slash, pins in another order), gets the token.
func TestApprovedClusterGetsTheToken(t *testing.T) {
	h := newHarness(t, nil)
	two := binding.Binding{Server: clusterA.Server, Pins: []pinning.Pin{pinB, pinA}}
	h.manager.Approvals = approvedFor(two, settings())
	tok := idToken(t, issuer, clientID, now.Add(10*time.Minute))
	h.put(t, tok, "")
	r := request(false)
	r.Binding = binding.Binding{Server: "https://KAPI.example.test:443/", Pins: []pinning.Pin{pinA, pinB}}
	if ts, err := h.manager.Token(t.Context(), r); err != nil || ts.IDToken != tok {
		t.Fatalf("approved cluster: %v, %v", ts, err)
	}
}

// An approval is for one server with exactly its pin set, and one login.
func TestApprovalIsExact(t *testing.T) {
	h := newHarness(t, nil)
	h.put(t, idToken(t, issuer, clientID, now.Add(10*time.Minute)), "")
	cases := map[string]struct {
		binding  binding.Binding
		settings oidc.Settings
	}{
		"another server, same pin":  {binding.Binding{Server: "https://other.example.test", Pins: clusterA.Pins}, settings()},
		"same server, another pin":  {binding.Binding{Server: clusterA.Server, Pins: []pinning.Pin{pinB}}, settings()},
		"same server, an added pin": {binding.Binding{Server: clusterA.Server, Pins: []pinning.Pin{pinA, pinB}}, settings()},
		"same server, no pin":       {binding.Binding{Server: clusterA.Server}, settings()},
		"another client":            {clusterA, oidc.Settings{Issuer: issuer, ClientID: "other"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := request(false)
			r.Binding, r.Settings, r.Key = tc.binding, tc.settings, keyFor(tc.settings)
			var na *binding.ErrNotApproved
			if _, err := h.manager.Token(t.Context(), r); !errors.As(err, &na) {
				t.Fatalf("Token() = %v; want ErrNotApproved", err)
			}
		})
	}
}

// No approvals store, or a damaged one, approves nothing.
func TestApprovalsMissingOrUnreadableApproveNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.put(t, idToken(t, issuer, clientID, now.Add(10*time.Minute)), "")
	h.manager.Approvals = nil
	var na *binding.ErrNotApproved
	if _, err := h.manager.Token(t.Context(), request(false)); !errors.As(err, &na) {
		t.Fatalf("no approvals store: %v", err)
	}
	h.manager.Approvals = &fakeApprovals{err: errors.New("approvals file is damaged")}
	if ts, err := h.manager.Token(t.Context(), request(false)); ts != nil || err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged approvals: %v, %v", ts, err)
	}
}
