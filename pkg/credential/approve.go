package credential

import (
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// checkApproved is CheckApproved before any token is read.
func (m *Manager) checkApproved(key tokenstore.Key, r Request) error {
	err := binding.CheckApproved(m.Approvals, key, r.Binding, r.LoginCommand)
	if err != nil {
		t := r.Binding.ApprovalTarget()
		m.Log.Debug("no token for this cluster", "server", t.Server, "pins", strings.Join(t.Pins, ","), "reason", err)
	}
	return err
}
