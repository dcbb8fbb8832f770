package cmdutil

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/loginui"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/trust"
)

// KubercAllowFlag is use's flag that lets it add the exec command to the
// kuberc credential-plugin allowlist without asking; doctor names it as the fix.
const KubercAllowFlag = "kuberc-allow"

// ApproveFlagHelp is the --approve flag of import, add, use and login.
const ApproveFlagHelp = "Approve the cluster(s) to receive your single sign-on login without asking (needed off a terminal)"

// CandidateFor is c as the exec stanza `use` writes for it (AccessFor),
// bound to pins.
func CandidateFor(c *profile.Cluster, pins []string) (loginui.Candidate, error) {
	return CandidateFromAccess(AccessFor(c, pins))
}

// CandidateFromAccess is the cluster a's exec args name, with a's key and
// binding.
func CandidateFromAccess(a AccessFlags) (loginui.Candidate, error) {
	b, err := a.Binding()
	if err != nil {
		return loginui.Candidate{}, err
	}
	name := a.Cluster
	if name == "" {
		name = a.Server
	}
	return loginui.Candidate{Name: name, Key: a.Key(), Binding: b}, nil
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
func ApprovalStore(getenv func(string) string, a *AccessFlags) (*binding.ApprovalStore, error) {
	dir, err := tokenstore.ResolveCacheDir(a.StoreChoice(), getenv)
	if err != nil {
		return nil, err
	}
	return &binding.ApprovalStore{Path: binding.ApprovalsPathIn(dir)}, nil
}

// Approver is what asking a person to approve clusters takes: where to
// ask (a person answers only at a terminal), the clock the approval is
// recorded on, and the environment that finds the approvals file.
type Approver struct {
	IO     loginui.IO
	Now    func() time.Time
	Getenv func(string) string
}

// Prompt asks on p.IO; the approvals file is in a's cache dir (the one the
// exec stanza's credential call reads).
func (p Approver) Prompt(a *AccessFlags, approved bool, via string) (*loginui.ApprovalPrompt, error) {
	store, err := ApprovalStore(p.Getenv, a)
	if err != nil {
		return nil, err
	}
	return &loginui.ApprovalPrompt{IO: p.IO, Approved: approved, Via: via, Store: store, Now: p.Now}, nil
}

// Clusters offers the clusters of one command (a profile's, or one) for
// approval; clusters whose pins are not known yet are left to `use`,
// which knows them.
func (p Approver) Clusters(clusters []profile.Cluster, verified map[string]*trust.Verified, approved bool, via string) error {
	var cands []loginui.Candidate
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
		fmt.Fprintf(p.IO.ErrOut, "%s: its pin is known once the endpoint is verified; `kubectl securekapi use` asks for approval then.\n", strings.Join(safetext.EscapeAll(later), ", "))
	}
	if len(cands) == 0 {
		return nil
	}
	prompt, err := p.Prompt(&AccessFlags{}, approved, via)
	if err != nil {
		return err
	}
	_, err = prompt.Run(cands)
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
