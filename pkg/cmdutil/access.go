package cmdutil

import (
	"fmt"
	"path/filepath"

	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/mint"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// AccessFlags are a cluster's OIDC client, token binding and token store
// settings: access.Flags, the one exec-args mapping, which the small exec
// program parses too, plus what only the full CLI does with them (OIDC
// flows, the Manager).
type AccessFlags struct {
	access.Flags
}

// AccessFor is the exec stanza `use` writes for the registered cluster c,
// bound to pins (ExecPins), for a person's login: its name, issuer,
// client, scopes, parameters, issuer CA file, server, TLS name and pins.
// `use` writes it (adding the store and, with --ci, the CI grant's own
// client and settings, which only its flags know), and the approval prompt
// and logout's registry fallback read the cluster through it, so all three
// name the cluster's login by the same key and bind it alike.
func AccessFor(c *profile.Cluster, pins []string) AccessFlags {
	return AccessFlags{access.Flags{Cluster: c.Name, Issuer: c.OIDC.IssuerURL, ClientID: c.OIDC.ClientID,
		ExtraScopes: c.OIDC.ExtraScopes, ExtraParams: c.OIDC.ExtraParams, OIDCCAFile: c.OIDC.CAFile,
		Server: c.Server, TLSServerName: pinning.Endpoint{URL: c.Server, TLSServerName: c.TLSServerName}.ServerName(), Pins: pins}}
}

// Settings is the OIDC client the flags name.
func (a *AccessFlags) Settings() oidc.Settings {
	return oidc.Settings{Issuer: a.Issuer, ClientID: a.ClientID, Scopes: a.ExtraScopes, ExtraParams: a.ExtraParams, CAFile: a.OIDCCAFile, CAData: a.IssuerCAData()}
}

// Validate checks what every token command needs: access.Flags.Validate,
// which the small exec program runs too, and the extra authorization
// parameters, which only a login (the full CLI) sends.
func (a *AccessFlags) Validate() error {
	if err := a.Flags.Validate(); err != nil {
		return err
	}
	if err := oidc.CheckExtraParams(a.ExtraParams); err != nil {
		return fmt.Errorf("--oidc-auth-request-extra-params: %w", err)
	}
	return nil
}

// openTokenStore opens the token store a's flags select; a notice (e.g.
// "keyring unavailable, using files") goes to stderr. Every token the
// store hands out or takes in is remembered, so that nothing this process
// prints can quote it. It also returns the cache directory.
func openTokenStore(f *Factory, a *AccessFlags) (tokenstore.Store, string, error) {
	choice := a.StoreChoice()
	dir, err := tokenstore.ResolveCacheDir(choice, f.Getenv)
	if err != nil {
		return nil, "", err
	}
	store, err := tokenstore.OpenChoice(choice, dir, f.Getenv, f.ErrOut)
	if err != nil {
		return nil, "", err
	}
	return tokenstore.Remembering(store, f.Secrets), dir, nil
}

// Manager wires a credential.Manager for a's flags: their token store, the
// Factory's clock and issuer, and the interactive login they choose.
func newManager(f *Factory, a *AccessFlags) (*credential.Manager, error) {
	store, dir, err := f.OpenTokenStore(a)
	if err != nil {
		return nil, err
	}
	m := &credential.Manager{
		Store:        store,
		LockDir:      filepath.Join(dir, "locks"),
		ExpiryMargin: a.ExpiryMargin,
		Now:          f.Now,
		Log:          f.Logger(),
		Discover:     f.Issuer,
		Login:        InteractiveLogin(f, a).Run,
		Approvals:    &binding.ApprovalStore{Path: binding.ApprovalsPathIn(dir)},
	}
	if a.MachineGrant() {
		// No person: never a browser, never the device flow.
		minter := &mint.Minter{Flags: &a.Flags, Settings: a.Settings(), Getenv: f.Getenv, Now: f.Now,
			Discover: m.Discover, Secrets: f.Secrets}
		m.Login, m.Mint = nil, minter.Mint
	}
	return m, nil
}

// TokenRequest is the Manager request for the cluster the flags name.
func (a *AccessFlags) TokenRequest(getenv func(string) string, b binding.Binding, interactive bool) credential.Request {
	return credential.Request{
		Settings:     a.Settings(),
		Interactive:  interactive,
		Binding:      b,
		LoginCommand: a.ApproveCommand(), // a person's login; a CI grant's use --approve
		Key:          a.Key(),
		Audience:     a.TokenAudience(),
		Source:       a.Source(getenv),
	}
}
