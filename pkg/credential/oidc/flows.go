package oidc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/int128/oauth2cli"
	"golang.org/x/oauth2"
)

// BrowserOptions drive the authorization code flow.
type BrowserOptions struct {
	// Open shows the URL to the user: it opens a browser, or prints it.
	Open func(url string) error
	// BindAddress is where the loopback callback listens; default
	// 127.0.0.1:0 (a free port).
	BindAddress []string
	// Logf receives oauth2cli's debug lines; nil discards them.
	Logf func(format string, args ...any)
}

// BrowserLogin runs authorization code with PKCE (S256): a loopback server
// receives the code, and the verifier never leaves this process.
func (p *Provider) BrowserLogin(ctx context.Context, o BrowserOptions) (*Tokens, error) {
	verifier := oauth2.GenerateVerifier()
	ready := make(chan string, 1)
	cfg := oauth2cli.Config{
		OAuth2Config:           p.oauth2Config(),
		AuthCodeOptions:        append(p.extraOptions(), oauth2.S256ChallengeOption(verifier)),
		TokenRequestOptions:    []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)},
		LocalServerBindAddress: o.BindAddress,
		LocalServerReadyChan:   ready,
		LocalServerSuccessHTML: successHTML,
		Logf:                   o.Logf,
	}
	if len(cfg.LocalServerBindAddress) == 0 {
		cfg.LocalServerBindAddress = []string{"127.0.0.1:0"}
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(p.ctx(ctx))
	defer cancel()
	openErr := make(chan error, 1)
	go func() {
		select {
		case u := <-ready:
			openErr <- o.Open(u)
		case <-ctx.Done():
		}
	}()
	tokCh := make(chan struct {
		t   *oauth2.Token
		err error
	}, 1)
	go func() {
		t, err := oauth2cli.GetToken(ctx, cfg)
		tokCh <- struct {
			t   *oauth2.Token
			err error
		}{t, err}
	}()
	select {
	case err := <-openErr:
		if err != nil {
			return nil, fmt.Errorf("open the browser: %w", err)
		}
	case r := <-tokCh:
		return p.finishBrowser(ctx, r.t, r.err)
	}
	r := <-tokCh
	return p.finishBrowser(ctx, r.t, r.err)
}

func (p *Provider) finishBrowser(ctx context.Context, t *oauth2.Token, err error) (*Tokens, error) {
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, errors.New("browser login timed out: nobody completed the login page in time (use --grant device-code on machines without a browser)")
		}
		return nil, fmt.Errorf("browser login: %w", redactRetrieveError(err))
	}
	return p.tokensFrom(ctx, t)
}

// DeviceAuthorization is what the user must see to approve a device login.
type DeviceAuthorization struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	ExpiresAt               time.Time
	Interval                time.Duration
}

// DeviceLogin runs RFC 8628: it asks for a device code, hands it to show,
// and polls at the server's interval (slowing down when told to) until the
// user approves, the code expires, or ctx ends.
func (p *Provider) DeviceLogin(ctx context.Context, show func(DeviceAuthorization)) (*Tokens, error) {
	if !p.HasDeviceFlow() {
		return nil, fmt.Errorf("%s does not advertise a device authorization endpoint; use the browser flow (--grant auth-code)", p.settings.Issuer)
	}
	cfg := p.oauth2Config()
	octx := p.ctx(ctx)
	da, err := cfg.DeviceAuth(octx, p.extraOptions()...)
	if err != nil {
		return nil, fmt.Errorf("start device login: %w", redactRetrieveError(err))
	}
	show(DeviceAuthorization{
		UserCode:                da.UserCode,
		VerificationURI:         da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete,
		ExpiresAt:               da.Expiry,
		Interval:                time.Duration(da.Interval) * time.Second,
	})
	t, err := cfg.DeviceAccessToken(octx, da)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, errors.New("device login timed out: the code was not approved in time; run the login again")
		}
		return nil, fmt.Errorf("device login: %w", redactRetrieveError(err))
	}
	return p.tokensFrom(ctx, t)
}

const successHTML = `<!DOCTYPE html><html><head><meta charset="UTF-8"><title>securekapi</title></head>
<body><h1>Logged in</h1><p>securekapi has your token. You can close this window.</p></body></html>`
