package loginui

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// Candidate is a cluster that is to receive a login: its name, the login's
// identity (the token store key) and its token binding, exactly as the exec
// stanza's args give them to the credential path.
type Candidate struct {
	Name    string
	Key     tokenstore.Key
	Binding binding.Binding
}

// ApprovalPrompt is the one place a person approves clusters to receive a
// login: it shows the issuer, the client and every server and pin, then
// asks y/N on a terminal; off a terminal only --approve approves.
type ApprovalPrompt struct {
	// IO is where the prompt asks; it asks only when IO.CanPrompt.
	IO IO
	// Approved: the person already said yes (--approve, or `login NAME`
	// typed on a terminal); show what is approved, do not ask.
	Approved bool
	// Via is the command that approved, recorded with the approval.
	Via   string
	Store *binding.ApprovalStore
	Now   func() time.Time
}

// Run approves the candidates not approved yet, all in one confirmation,
// and reports whether they are all approved now. Declining is not an
// error: the command did its job, and kubectl will name the way to approve.
func (p *ApprovalPrompt) Run(cands []Candidate) (bool, error) {
	f, err := p.Store.Load()
	if err != nil {
		return false, err
	}
	var pending []Candidate
	for _, c := range cands {
		if !f.Allows(c.Key.ID(), c.Binding.ApprovalTarget()) {
			pending = append(pending, c)
		}
	}
	if len(pending) == 0 {
		return true, nil
	}
	out := p.IO.ErrOut
	p.describe(pending)
	switch {
	case p.Approved:
	case p.IO.CanPrompt():
		fmt.Fprint(out, "Approve? [y/N] ")
		answer, _ := bufio.NewReader(p.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintf(out, "Not approved. kubectl gets no token for %s until you run `%s`.\n", names(pending), loginHint(pending))
			return false, nil
		}
	default:
		fmt.Fprintf(out, "Not approved: no terminal to ask on. kubectl gets no token for %s until you approve: rerun with --approve, or run `%s` in a terminal.\n", names(pending), loginHint(pending))
		return false, nil
	}
	now := clock(p.Now)
	if err := p.Store.Update(func(f *binding.ApprovalsFile) error {
		for _, c := range pending {
			a := binding.ApprovalFor(c.Key.ID(), c.Binding.ApprovalTarget())
			a.Issuer, a.ClientID, a.Cluster, a.ApprovedAt, a.Via = c.Key.Issuer, c.Key.ClientID, c.Name, now().UTC(), p.Via
			f.Approve(a)
		}
		return nil
	}); err != nil {
		return false, fmt.Errorf("record the approval: %w", err)
	}
	fmt.Fprintf(out, "Approved %s to receive your login (kept in %s).\n", names(pending), p.Store.Path)
	return true, nil
}

// describe shows, per login, every server and pin that will receive it.
// Every value is escaped (safetext.Escape): a profile or kubeconfig wrote
// them, and a line break or escape sequence in one could forge the lines
// the person approves.
func (p *ApprovalPrompt) describe(cands []Candidate) {
	out := p.IO.ErrOut
	fmt.Fprintln(out, "Single sign-on: these clusters would receive your login, and act as you:")
	var order []string
	byIdentity := map[string][]Candidate{}
	for _, c := range cands {
		id := c.Key.ID()
		if _, seen := byIdentity[id]; !seen {
			order = append(order, id)
		}
		byIdentity[id] = append(byIdentity[id], c)
	}
	for _, id := range order {
		key := byIdentity[id][0].Key
		fmt.Fprintf(out, "  issuer %s, client %s, scopes %s\n", safetext.Escape(key.Issuer), safetext.Escape(key.ClientID), strings.Join(safetext.EscapeAll(key.Scopes), " "))
		if key.Grant != "" {
			fmt.Fprintf(out, "  with no person, by grant %s\n", safetext.Escape(key.Grant))
		}
		for _, c := range byIdentity[id] {
			t := c.Binding.ApprovalTarget()
			fmt.Fprintf(out, "    %s: server %s, verified as %s\n", safetext.Escape(c.Name), safetext.Escape(t.Server), safetext.Escape(t.ServerName))
			fmt.Fprintf(out, "      issuer trusted by %s\n", safetext.Escape(t.IssuerTrust))
			for _, pin := range t.Pins {
				fmt.Fprintf(out, "      pin %s\n", safetext.Escape(pin))
			}
			if len(t.Pins) == 0 {
				fmt.Fprintln(out, "      no pin: any CA in its kubeconfig entry")
			}
		}
	}
}

// loginHint is the login that approves cands: by name for one cluster.
func loginHint(cands []Candidate) string {
	if len(cands) == 1 {
		return "kubectl securekapi login " + safetext.Escape(cands[0].Name)
	}
	return "kubectl securekapi login NAME"
}

func names(cands []Candidate) string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = safetext.Escape(c.Name)
	}
	return strings.Join(out, ", ")
}
