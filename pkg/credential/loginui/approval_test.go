package loginui

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

const testPin = "sha256:7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c7d3c"

// candidate is cluster name at server receiving key's login, bound to testPin.
func candidate(t *testing.T, name, server string, key tokenstore.Key) Candidate {
	t.Helper()
	pins, err := pinning.ParsePins([]string{testPin})
	if err != nil {
		t.Fatal(err)
	}
	return Candidate{Name: name, Key: key, Binding: binding.Binding{Cluster: name, Server: server, Pins: pins, IssuerTrust: binding.SystemRoots}}
}

// fleet is two clusters of one profile, receiving one login.
func fleet(t *testing.T) []Candidate {
	key := tokenstore.Key{Issuer: "https://dex.example.test", ClientID: "kubectl"}
	return []Candidate{candidate(t, "a", "https://a.example.test", key), candidate(t, "b", "https://b.example.test:6443", key)}
}

func newPrompt(t *testing.T, answer string, terminal, approved bool) (*ApprovalPrompt, *bytes.Buffer) {
	var errOut bytes.Buffer
	return &ApprovalPrompt{
		IO:       IO{In: strings.NewReader(answer), ErrOut: &errOut, StdinTTY: terminal, StderrTTY: terminal},
		Approved: approved, Via: "import",
		Store: &binding.ApprovalStore{Path: filepath.Join(t.TempDir(), binding.ApprovalsFileName)},
		Now:   func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) },
	}, &errOut
}

func allowed(t *testing.T, p *ApprovalPrompt, cands []Candidate) int {
	t.Helper()
	f, err := p.Store.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cands {
		if f.Allows(c.Key.ID(), c.Binding.ApprovalTarget()) {
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
	f, err := p.Store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if a := f.Approvals; len(a) != 2 || a[0].Via != "import" || !a[0].ApprovedAt.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || a[0].Cluster != "a" {
		t.Errorf("recorded approvals = %+v", a)
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

// A person answers y/N only where both stdin and stderr are terminals:
// with either redirected, the prompt refuses and says how to approve.
func TestApprovalAsksOnlyWhereAPersonCanAnswer(t *testing.T) {
	for _, tc := range []struct {
		name          string
		stdin, stderr bool
	}{{"stdin piped", false, true}, {"stderr to a log", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cands := fleet(t)
			p, errOut := newPrompt(t, "y\n", true, false)
			p.IO.StdinTTY, p.IO.StderrTTY = tc.stdin, tc.stderr
			if ok, err := p.Run(cands); ok || err != nil || allowed(t, p, cands) != 0 {
				t.Fatalf("Run() = %v, %v\n%s", ok, err, errOut)
			}
			if strings.Contains(errOut.String(), "[y/N]") || !strings.Contains(errOut.String(), "Not approved: no terminal to ask on") {
				t.Errorf("output:\n%s", errOut)
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
	cand := candidate(t, "rogue\x1b]0;title\x07", "https://rogue.example.test",
		tokenstore.Key{Issuer: "https://evil.example.test", ClientID: forgedClientID, Scopes: []string{"openid", "email\n"}, Grant: "ci\x1b[2J"})
	p, errOut := newPrompt(t, "n\n", true, false)
	if ok, err := p.Run([]Candidate{cand}); ok || err != nil {
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
