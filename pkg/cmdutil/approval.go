package cmdutil

import (
	"bufio"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/trust"
)

// KubercAllowFlag is use's flag that lets it add the exec command to the
// kuberc credential-plugin allowlist without asking; doctor names it as the fix.
const KubercAllowFlag = "kuberc-allow"

// ApproveFlagHelp is the --approve flag of import, add, use and login.
const ApproveFlagHelp = "Approve the cluster(s) to receive your single sign-on login without asking (needed off a terminal)"

// ApprovalCandidate is a cluster that is to receive a login: its name, its
// identity (the token cache key) and its token binding, exactly as the exec
// stanza's args give them to the credential path.
type ApprovalCandidate struct {
	Name    string
	Access  AccessFlags
	Binding binding.Binding
}

// CandidateFor is c as the exec stanza `use` writes for it (AccessFor),
// bound to pins.
func CandidateFor(c *profile.Cluster, pins []string) (ApprovalCandidate, error) {
	return CandidateFromAccess(AccessFor(c, pins))
}

// CandidateFromAccess is the cluster a's exec args name, with a's key and
// binding.
func CandidateFromAccess(a AccessFlags) (ApprovalCandidate, error) {
	b, err := a.Binding()
	if err != nil {
		return ApprovalCandidate{}, err
	}
	name := a.Cluster
	if name == "" {
		name = a.Server
	}
	return ApprovalCandidate{Name: name, Access: a, Binding: b}, nil
}

// ExecPins are the pins the exec stanza binds tokens to (BindingPins):
// the registered ones and those of every CA of the verified chain. Without
// either (a pinless cluster imported unchecked) they are not known yet: nil.
func ExecPins(c *profile.Cluster, v *trust.Verified) []string {
	if v == nil {
		return c.Pins
	}
	return BindingPins(c.Pins, v.CAs)
}

// ApprovalStore is the user's approvals file, in the securekapi cache dir.
func ApprovalStore(g *Factory, a *AccessFlags) (*binding.ApprovalStore, error) {
	dir, err := a.ResolveCacheDir(g.Getenv)
	if err != nil {
		return nil, err
	}
	return &binding.ApprovalStore{Path: binding.ApprovalsPathIn(dir)}, nil
}

// ApprovalPrompt is the one place a person approves clusters to receive a
// login: it shows the issuer, the client and every server and pin, then
// asks y/N on a terminal; off a terminal only --approve approves.
type ApprovalPrompt struct {
	In     io.Reader
	ErrOut io.Writer
	// Terminal: stdin and stderr are a terminal, so a person can answer.
	Terminal bool
	// Approved: the person already said yes (--approve, or `login NAME`
	// typed on a terminal); show what is approved, do not ask.
	Approved bool
	Via      string
	Store    *binding.ApprovalStore
	Now      func() time.Time
}

// NewApprovalPrompt asks on g's streams; the approvals file is in a's
// cache dir (the one the exec stanza's credential call reads).
func NewApprovalPrompt(g *Factory, a *AccessFlags, approved bool, via string) (*ApprovalPrompt, error) {
	store, err := ApprovalStore(g, a)
	if err != nil {
		return nil, err
	}
	return &ApprovalPrompt{In: g.In, ErrOut: g.ErrOut, Terminal: g.CanPrompt(), Approved: approved, Via: via, Store: store, Now: g.Now}, nil
}

// Run approves the candidates not approved yet, all in one confirmation,
// and reports whether they are all approved now. Declining is not an
// error: the command did its job, and kubectl will name the way to approve.
func (p *ApprovalPrompt) Run(cands []ApprovalCandidate) (bool, error) {
	f, err := p.Store.Load()
	if err != nil {
		return false, err
	}
	var pending []ApprovalCandidate
	for _, c := range cands {
		if !f.Allows(c.Access.Key().ID(), c.Binding.ApprovalTarget()) {
			pending = append(pending, c)
		}
	}
	if len(pending) == 0 {
		return true, nil
	}
	p.describe(pending)
	switch {
	case p.Approved:
	case p.Terminal:
		fmt.Fprint(p.ErrOut, "Approve? [y/N] ")
		answer, _ := bufio.NewReader(p.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintf(p.ErrOut, "Not approved. kubectl gets no token for %s until you run `%s`.\n", names(pending), loginHint(pending))
			return false, nil
		}
	default:
		fmt.Fprintf(p.ErrOut, "Not approved: no terminal to ask on. kubectl gets no token for %s until you approve: rerun with --approve, or run `%s` in a terminal.\n", names(pending), loginHint(pending))
		return false, nil
	}
	if err := p.Store.Update(func(f *binding.ApprovalsFile) error {
		for _, c := range pending {
			key := c.Access.Key()
			a := binding.ApprovalFor(key.ID(), c.Binding.ApprovalTarget())
			a.Issuer, a.ClientID, a.Cluster, a.ApprovedAt, a.Via = key.Issuer, key.ClientID, c.Name, p.Now().UTC(), p.Via
			f.Approve(a)
		}
		return nil
	}); err != nil {
		return false, fmt.Errorf("record the approval: %w", err)
	}
	fmt.Fprintf(p.ErrOut, "Approved %s to receive your login (kept in %s).\n", names(pending), p.Store.Path)
	return true, nil
}

// describe shows, per login, every server and pin that will receive it.
// Every value is escaped (safetext.Escape): a profile or kubeconfig wrote
// them, and a line break or escape sequence in one could forge the lines
// the person approves.
func (p *ApprovalPrompt) describe(cands []ApprovalCandidate) {
	fmt.Fprintln(p.ErrOut, "Single sign-on: these clusters would receive your login, and act as you:")
	var order []string
	byIdentity := map[string][]ApprovalCandidate{}
	for _, c := range cands {
		id := c.Access.Key().ID()
		if _, seen := byIdentity[id]; !seen {
			order = append(order, id)
		}
		byIdentity[id] = append(byIdentity[id], c)
	}
	for _, id := range order {
		first := byIdentity[id][0].Access
		key := first.Key()
		fmt.Fprintf(p.ErrOut, "  issuer %s, client %s, scopes %s\n", safetext.Escape(key.Issuer), safetext.Escape(key.ClientID), strings.Join(safetext.EscapeAll(key.Scopes), " "))
		if key.Grant != "" {
			fmt.Fprintf(p.ErrOut, "  with no person, by grant %s\n", safetext.Escape(key.Grant))
		}
		for _, c := range byIdentity[id] {
			t := c.Binding.ApprovalTarget()
			fmt.Fprintf(p.ErrOut, "    %s: server %s, verified as %s\n", safetext.Escape(c.Name), safetext.Escape(t.Server), safetext.Escape(t.ServerName))
			fmt.Fprintf(p.ErrOut, "      issuer trusted by %s\n", safetext.Escape(t.IssuerTrust))
			for _, pin := range t.Pins {
				fmt.Fprintf(p.ErrOut, "      pin %s\n", safetext.Escape(pin))
			}
			if len(t.Pins) == 0 {
				fmt.Fprintln(p.ErrOut, "      no pin: any CA in its kubeconfig entry")
			}
		}
	}
}

// loginHint is the login that approves cands: by name for one cluster.
func loginHint(cands []ApprovalCandidate) string {
	if len(cands) == 1 {
		return "kubectl securekapi login " + safetext.Escape(cands[0].Name)
	}
	return "kubectl securekapi login NAME"
}

func names(cands []ApprovalCandidate) string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = safetext.Escape(c.Name)
	}
	return strings.Join(out, ", ")
}

// ApproveClusters offers the clusters of one command (a profile's, or
// one) for approval; clusters whose pins are not known yet are left to
// `use`, which knows them.
func ApproveClusters(g *Factory, clusters []profile.Cluster, verified map[string]*trust.Verified, approved bool, via string) error {
	var cands []ApprovalCandidate
	var later []string
	for i := range clusters {
		c := &clusters[i]
		pins := ExecPins(c, verified[c.Name])
		if len(pins) == 0 {
			later = append(later, c.Name)
			continue
		}
		cand, err := CandidateFor(c, pins)
		if err != nil {
			return err
		}
		cands = append(cands, cand)
	}
	if len(later) > 0 {
		fmt.Fprintf(g.ErrOut, "%s: its pin is known once the endpoint is verified; `kubectl securekapi use` asks for approval then.\n", strings.Join(safetext.EscapeAll(later), ", "))
	}
	if len(cands) == 0 {
		return nil
	}
	p, err := NewApprovalPrompt(g, &AccessFlags{}, approved, via)
	if err != nil {
		return err
	}
	_, err = p.Run(cands)
	return err
}

// BindingPins are the CA keys a token may be released under: the profile's
// pins (several allow a CA rotation) and every CA written to
// certificate-authority-data, which were all just verified. The credential
// plugin refuses a kubeconfig that trusts any CA outside them.
func BindingPins(profilePins []string, cas []*x509.Certificate) []string {
	pins := slices.Clone(profilePins)
	for _, ca := range cas {
		if p := string(trust.PinFor(ca)); !slices.Contains(pins, p) {
			pins = append(pins, p)
		}
	}
	return pins
}
