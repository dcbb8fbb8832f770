package binding

import (
	"fmt"
	"slices"

	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Approvals says which clusters a person approved for which login;
// *ApprovalStore is the real one.
type Approvals interface {
	Load() (*ApprovalsFile, error)
}

// ApprovalTarget is the binding as approvals name it: the normalized
// server, the name kubectl verifies, the pin set and the issuer's trust.
func (b Binding) ApprovalTarget() Target {
	pins := make([]string, len(b.Pins))
	for i, p := range b.Pins {
		pins[i] = string(p)
	}
	name := pinning.Endpoint{URL: b.Server, TLSServerName: b.TLSServerName}.ServerName()
	return Target{Server: normalizeServer(b.Server), ServerName: name, Pins: pins, IssuerTrust: b.IssuerTrust}.Normal()
}

// ErrNotApproved means the cluster asking for a token was never approved
// by the user for this login. Its message names the command that approves.
type ErrNotApproved struct {
	Issuer, ClientID, Server string
	Command                  string
	// Differs says what differs from an approval of the same server and
	// pins, when there is one: the TLS name or the issuer's trust.
	Differs string
}

func (e *ErrNotApproved) Error() string {
	if e.Differs != "" {
		return fmt.Sprintf("%s was approved to receive your login for %s (client %s), but not as this kubeconfig has it: %s; if you trust this, run `%s` in a terminal (it shows what you approve), then retry", e.Server, e.Issuer, e.ClientID, e.Differs, e.Command)
	}
	return fmt.Sprintf("%s has not been approved to receive your login for %s (client %s), although it names that issuer and client; if you trust this cluster, run `%s` in a terminal (it shows what you approve), then retry", e.Server, e.Issuer, e.ClientID, e.Command)
}

// differs says how target differs from an approval in f of the same
// identity, server and pins, or "".
func differs(f *ApprovalsFile, identity string, target Target) string {
	for _, a := range f.Approvals {
		got := a.Target()
		if a.Identity != identity || got.Server != target.Server || !slices.Equal(got.Pins, target.Pins) {
			continue
		}
		switch {
		case got.ServerName != target.ServerName:
			return fmt.Sprintf("the approval is for the certificate name %q, this kubeconfig verifies %q", got.ServerName, target.ServerName)
		case got.IssuerTrust != target.IssuerTrust:
			return fmt.Sprintf("the approval trusts the issuer by %s, this kubeconfig by %s", got.IssuerTrust, target.IssuerTrust)
		}
	}
	return ""
}

// CheckApproved refuses a cluster (b) the user has not approved for the
// login key; command is the one that approves it. No approval store, or one
// that cannot be read, approves nothing. Both the full credential command
// (credential.Manager.Token) and the small exec program's fast path call it
// before any token is read.
func CheckApproved(approvals Approvals, key tokenstore.Key, b Binding, command string) error {
	notApproved := &ErrNotApproved{Issuer: key.Issuer, ClientID: key.ClientID, Server: b.Server, Command: command}
	if approvals == nil {
		return notApproved
	}
	f, err := approvals.Load()
	if err != nil {
		return err
	}
	if target := b.ApprovalTarget(); !f.Allows(key.ID(), target) {
		notApproved.Differs = differs(f, key.ID(), target)
		return notApproved
	}
	return nil
}
