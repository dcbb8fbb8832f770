package cmdutil

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/profile"
)

const testPin = "sha256:7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c"

func fleet(t *testing.T) []ApprovalCandidate {
	t.Helper()
	var out []ApprovalCandidate
	for _, c := range []profile.Cluster{
		{Name: "a", Server: "https://a.example.test", OIDC: profile.OIDC{IssuerURL: "https://dex.example.test", ClientID: "kubectl"}},
		{Name: "b", Server: "https://b.example.test:6443", OIDC: profile.OIDC{IssuerURL: "https://dex.example.test", ClientID: "kubectl"}},
	} {
		cand, err := CandidateFor(&c, []string{testPin})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cand)
	}
	return out
}

func newPrompt(t *testing.T, answer string, terminal, approved bool) (*ApprovalPrompt, *bytes.Buffer) {
	var errOut bytes.Buffer
	return &ApprovalPrompt{
		In: strings.NewReader(answer), ErrOut: &errOut, Terminal: terminal, Approved: approved, Via: "import",
		Store: &binding.ApprovalStore{Path: filepath.Join(t.TempDir(), binding.ApprovalsFileName)},
		Now:   func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) },
	}, &errOut
}

func allowed(t *testing.T, p *ApprovalPrompt, cands []ApprovalCandidate) int {
	t.Helper()
	f, err := p.Store.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cands {
		if f.Allows(c.Access.Key().ID(), c.Binding.ApprovalTarget()) {
			n++
		}
	}
	return n
}

// One confirmation on a terminal approves every cluster of a profile, and
// it shows the issuer, the client and each server and pin first.
func TestApprovalPromptOnTerminal(t *testing.T) {
	cands := fleet(t)
	p, errOut := newPrompt(t, "y\n", true, false)
	ok, err := p.Run(cands)
	if err != nil || !ok || allowed(t, p, cands) != 2 {
		t.Fatalf("Run() = %v, %v; %d approved\n%s", ok, err, allowed(t, p, cands), errOut)
	}
	for _, want := range []string{"issuer https://dex.example.test", "client kubectl", "https://a.example.test:443", "https://b.example.test:6443", "pin " + testPin, "[y/N]"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("prompt lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Count(errOut.String(), "[y/N]") != 1 {
		t.Errorf("asked more than once:\n%s", errOut)
	}
	// Asked again for approved clusters: nothing to ask.
	errOut.Reset()
	if ok, err := p.Run(cands); !ok || err != nil || errOut.Len() != 0 {
		t.Fatalf("second Run() = %v, %v:\n%s", ok, err, errOut)
	}
}

func TestApprovalPromptDeclinedOrNoTerminal(t *testing.T) {
	cases := map[string]struct {
		answer   string
		terminal bool
		want     string
	}{
		"answered no":           {"n\n", true, "kubectl securekapi login NAME"},
		"just enter":            {"\n", true, "Not approved"},
		"no terminal, no flag":  {"y\n", false, "--approve"},
		"terminal closed (EOF)": {"", true, "Not approved"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cands := fleet(t)
			p, errOut := newPrompt(t, tc.answer, tc.terminal, false)
			ok, err := p.Run(cands)
			if err != nil || ok || allowed(t, p, cands) != 0 || !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("Run() = %v, %v; %d approved\n%s", ok, err, allowed(t, p, cands), errOut)
			}
		})
	}
}

// --approve off a terminal approves without asking, and still shows what.
func TestApprovalFlagOffTerminal(t *testing.T) {
	cands := fleet(t)
	p, errOut := newPrompt(t, "", false, true)
	if ok, err := p.Run(cands); err != nil || !ok || allowed(t, p, cands) != 2 {
		t.Fatalf("Run() = %v, %v\n%s", ok, err, errOut)
	}
	if strings.Contains(errOut.String(), "[y/N]") || !strings.Contains(errOut.String(), "https://a.example.test:443") {
		t.Errorf("output:\n%s", errOut)
	}
}

// forgedClientID tries to write the lines a person approves: it ends the
// real issuer line, clears it, and prints a trusted-looking one.
const forgedClientID = "evil\r\x1b[2K  issuer https://login.corp.example, client kubectl, scopes openid\n\x1b[1A\u202e"

// TestApprovalPromptEscapesWhatItShows: every value in the confirmation
// came from a profile or a kubeconfig; none reaches the terminal with a
// control character in it, so none can forge the lines being approved.
func TestApprovalPromptEscapesWhatItShows(t *testing.T) {
	cand, err := CandidateFromAccess(AccessFor(&profile.Cluster{Name: "rogue\x1b]0;title\x07", Server: "https://rogue.example.test",
		OIDC: profile.OIDC{IssuerURL: "https://evil.example.test", ClientID: forgedClientID, ExtraScopes: []string{"email\n"}}}, []string{testPin}))
	if err != nil {
		t.Fatal(err)
	}
	p, errOut := newPrompt(t, "n\n", true, false)
	if ok, err := p.Run([]ApprovalCandidate{cand}); ok || err != nil {
		t.Fatalf("Run() = %v, %v", ok, err)
	}
	out := errOut.String()
	for _, c := range []string{"\x1b", "\r", "\u202e", "\x07"} {
		if strings.Contains(out, c) {
			t.Errorf("the prompt carries %q raw:\n%q", c, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "issuer https://login.corp.example") {
			t.Errorf("a forged issuer line stands on its own:\n%s", out)
		}
	}
	if !strings.Contains(out, `client evil\r\x1b[2K  issuer https://login.corp.example, client kubectl, scopes openid\n\x1b[1A\u202e, scopes`) {
		t.Errorf("the client ID is not shown escaped on the issuer's line:\n%s", out)
	}
}
