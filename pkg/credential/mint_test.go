package credential

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// ciKey is a machine grant's key: the person's issuer and client, but its
// own entry and approval.
var ciKey = func() tokenstore.Key { k := keyFor(settings()); k.Grant = "token-exchange aud=kubectl"; return k }()

func ciRequest(source string) Request {
	return Request{Settings: settings(), Binding: clusterA, LoginCommand: "kubectl securekapi login cluster-a", Key: ciKey, Source: source}
}

// mintingHarness is a Manager for a machine grant whose Mint counts
// requests; the approval is for the CI key.
func mintingHarness(t *testing.T, lifetime time.Duration) (*harness, *atomic.Int32) {
	h := newHarness(t, nil)
	approvals := &fakeApprovals{}
	target := clusterA.ApprovalTarget()
	approvals.file.Approve(binding.ApprovalFor(ciKey.ID(), target))
	h.manager.Approvals = approvals
	var mints atomic.Int32
	h.manager.Login = nil
	h.manager.Mint = func(context.Context) (*oidc.Tokens, error) {
		n := mints.Add(1)
		time.Sleep(20 * time.Millisecond) // a real request takes a while: others must wait, not mint too
		exp := h.manager.Now().Add(lifetime)
		return &oidc.Tokens{IDToken: idToken(t, issuer, clientID, exp) + strings.Repeat("x", int(n)), Claims: token.Claims{Issuer: issuer, Expiry: exp}}, nil
	}
	return h, &mints
}

// TestParallelCallsMintOnce: 20 kubectl calls at once in one CI job make
// one token request; the rest read what it cached.
func TestParallelCallsMintOnce(t *testing.T) {
	h, mints := mintingHarness(t, 5*time.Minute)
	var wg sync.WaitGroup
	tokens := make([]string, 20)
	errs := make([]error, 20)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts, err := h.manager.Token(t.Context(), ciRequest("job-1"))
			errs[i] = err
			if ts != nil {
				tokens[i] = ts.IDToken
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if tokens[i] != tokens[0] {
			t.Errorf("call %d got another token", i)
		}
	}
	if mints.Load() != 1 {
		t.Errorf("%d token requests for 20 calls, want 1", mints.Load())
	}
	if h.discovers != 0 {
		t.Errorf("the cached path discovered the issuer %d times", h.discovers)
	}
}

// TestMintedTokenIsNotHandedToAnotherJob: a runner that keeps its cache
// between jobs must not serve job 1's token to job 2.
func TestMintedTokenIsNotHandedToAnotherJob(t *testing.T) {
	h, mints := mintingHarness(t, 5*time.Minute)
	first, err := h.manager.Token(t.Context(), ciRequest("job-1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.manager.Token(t.Context(), ciRequest("job-2"))
	if err != nil {
		t.Fatal(err)
	}
	if first.IDToken == second.IDToken || mints.Load() != 2 {
		t.Errorf("job 2 got job 1's token (%d mints)", mints.Load())
	}
}

// TestNearExpiryMintsAFreshOne: a CI token has no refresh token; when the
// cached one is within the margin of its expiry, a new one is minted.
func TestNearExpiryMintsAFreshOne(t *testing.T) {
	h, mints := mintingHarness(t, 5*time.Minute)
	if _, err := h.manager.Token(t.Context(), ciRequest("job-1")); err != nil {
		t.Fatal(err)
	}
	h.manager.Now = func() time.Time { return now.Add(4*time.Minute + 30*time.Second) } // inside the 1 min margin
	if _, err := h.manager.Token(t.Context(), ciRequest("job-1")); err != nil {
		t.Fatal(err)
	}
	if mints.Load() != 2 {
		t.Errorf("%d mints, want a fresh one near expiry", mints.Load())
	}
}

// TestMachineGrantKeepsTheBindingAndApprovals: a rogue cluster naming the
// same issuer and client gets nothing and nothing is minted for it; a
// person's approval does not approve the CI grant, nor the reverse.
func TestMachineGrantKeepsTheBindingAndApprovals(t *testing.T) {
	h, mints := mintingHarness(t, 5*time.Minute)
	r := ciRequest("job-1")
	r.Binding = rogue
	if _, err := h.manager.Token(t.Context(), r); !errors.As(err, new(*binding.ErrNotApproved)) {
		t.Fatalf("rogue cluster: %v", err)
	}
	h.manager.Approvals = approvedFor(clusterA, settings()) // a person's login approved, not the CI grant
	if _, err := h.manager.Token(t.Context(), ciRequest("job-1")); !errors.As(err, new(*binding.ErrNotApproved)) {
		t.Fatalf("CI grant under a person's approval: %v", err)
	}
	if mints.Load() != 0 {
		t.Errorf("%d tokens minted for unapproved clusters", mints.Load())
	}
}

// TestMintedTokenForAnotherAudienceIsAnError: a token the cache would
// refuse at once is an error naming what was wanted, not a mint per call.
func TestMintedTokenForAnotherAudienceIsAnError(t *testing.T) {
	h, _ := mintingHarness(t, 5*time.Minute)
	h.manager.Mint = func(context.Context) (*oidc.Tokens, error) {
		return &oidc.Tokens{IDToken: idToken(t, issuer, "someone-else", now.Add(time.Hour))}, nil
	}
	_, err := h.manager.Token(t.Context(), ciRequest("job-1"))
	if err == nil || !strings.Contains(err.Error(), "wrong audience") || !strings.Contains(err.Error(), "audience kubectl") {
		t.Fatalf("err = %v", err)
	}
}

// TestMintedTokenIsNotHandedToAJobWithoutItsMaterial: a job whose material
// is missing (a client-credentials job whose secret variable is not set has
// no fingerprint) gets nothing from the cache, not even an entry stored
// without a fingerprint (by an older securekapi, or a job that had none);
// it mints, and fails there if it cannot.
func TestMintedTokenIsNotHandedToAJobWithoutItsMaterial(t *testing.T) {
	h, mints := mintingHarness(t, 5*time.Minute)
	if _, err := h.manager.Token(t.Context(), ciRequest("")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.manager.Token(t.Context(), ciRequest("")); err != nil {
		t.Fatal(err)
	}
	if mints.Load() != 2 {
		t.Errorf("%d mints for two jobs without material: the second was handed the first's token", mints.Load())
	}
}
