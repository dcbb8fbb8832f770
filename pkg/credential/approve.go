package credential

import (
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// Approvals, ErrNotApproved and CheckApproved live in the light binding
// package, so the small exec program runs the same approval check.
type (
	Approvals      = binding.Approvals
	ErrNotApproved = binding.ErrNotApproved
)

// CheckApproved is binding.CheckApproved.
func CheckApproved(approvals Approvals, key tokenstore.Key, b Binding, command string) error {
	return binding.CheckApproved(approvals, key, b, command)
}

// checkApproved is CheckApproved before any token is read.
func (m *Manager) checkApproved(key tokenstore.Key, r Request) error {
	err := CheckApproved(m.Approvals, key, r.Binding, r.LoginCommand)
	if err != nil {
		t := r.Binding.ApprovalTarget()
		m.Log.Debug("no token for this cluster", "server", t.Server, "pins", strings.Join(t.Pins, ","), "reason", err)
	}
	return err
}
