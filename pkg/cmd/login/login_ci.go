package login

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// mintNow is login for a CI grant: it mints a token with no person (no
// browser, no device flow), keeps it where kubectl's calls will find it,
// and says whose it is, so a job's log shows the identity it acts as.
func (o *LoginOptions) mintNow(ctx context.Context, m *credential.Manager) error {
	b, err := o.Access.Binding()
	if err != nil {
		return err
	}
	tokens, err := m.Mint(ctx)
	if err != nil {
		return err
	}
	if _, err := m.SaveMinted(o.Access.TokenRequest(o.Getenv, b, false), tokens); err != nil {
		return err
	}
	c := tokens.Claims
	fmt.Fprintf(o.ErrOut, "Got a token from %s with no person (grant %s)\n  subject: %s\n  groups:  %s\n  expires: %s (%s); kubectl's calls get a new one when it does\n  kept in: %s\n",
		safetext.Escape(c.Issuer), safetext.Escape(o.Access.Grant), safetext.Escape(c.Subject), cmdutil.OrDash(strings.Join(safetext.EscapeAll(c.Groups), ", ")),
		c.Expiry.Local().Format(time.RFC3339), c.Expiry.Sub(o.Now()).Round(time.Second), m.Store.Location())
	return nil
}
