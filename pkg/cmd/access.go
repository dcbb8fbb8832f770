package cmd

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/securekapi/securekapi/pkg/credential"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/approval"
	"github.com/securekapi/securekapi/pkg/credential/cigrant"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/credential/tokencache"
)

// AccessFlags are a cluster's OIDC client, token binding and token store
// settings: access.Flags, the one exec-args mapping, which the small exec
// program parses too, plus what only the full CLI does with them (OIDC
// flows, the Manager).
type AccessFlags struct {
	access.Flags
}

// Settings is the OIDC client the flags name.
func (a *AccessFlags) Settings() oidc.Settings {
	return oidc.Settings{Issuer: a.Issuer, ClientID: a.ClientID, Scopes: a.ExtraScopes, ExtraParams: a.ExtraParams, CAFile: a.OIDCCAFile}
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

// openStore opens the selected token store; a notice (e.g. "keyring
// unavailable, using files") goes to stderr. Every token the store hands
// out or takes in is remembered, so that nothing this process prints can
// quote it.
func (a *AccessFlags) openStore(g *GlobalOptions) (tokencache.Store, string, error) {
	store, dir, err := a.OpenStore(g.Getenv, g.ErrOut)
	if err != nil {
		return nil, "", err
	}
	return tokencache.Remembering(store, g.Secrets), dir, nil
}

// manager wires a credential.Manager for these flags.
func (a *AccessFlags) manager(g *GlobalOptions) (*credential.Manager, error) {
	store, dir, err := a.openStore(g)
	if err != nil {
		return nil, err
	}
	m := &credential.Manager{
		Store:        store,
		LockDir:      filepath.Join(dir, "locks"),
		ExpiryMargin: a.ExpiryMargin,
		Now:          g.Now,
		Log:          g.Logger(),
		Discover: func(ctx context.Context, s oidc.Settings) (*oidc.Provider, error) {
			return oidc.Discover(ctx, s, nil)
		},
		Login:     a.interactiveLogin(g),
		Approvals: &approval.Store{Path: approval.PathIn(dir)},
	}
	if a.MachineGrant() {
		// No person: never a browser, never the device flow.
		minter := &cigrant.Minter{Flags: &a.Flags, Settings: a.Settings(), Getenv: g.Getenv, Now: g.Now,
			Discover: m.Discover, Secrets: g.Secrets}
		m.Login, m.Mint = nil, minter.Mint
	}
	return m, nil
}

// tokenRequest is the Manager request for the cluster the flags name.
func (a *AccessFlags) tokenRequest(g *GlobalOptions, b credential.Binding, interactive bool) credential.Request {
	return credential.Request{
		Settings:     a.Settings(),
		Interactive:  interactive,
		Binding:      b,
		LoginCommand: a.LoginCommand(),
		Key:          a.Key(),
		Audience:     a.TokenAudience(),
		Source:       a.Source(g.Getenv),
	}
}
