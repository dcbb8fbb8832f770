// The CI job's own OIDC token: Fetcher gets it from the CI system the exec
// args name (package ci: GitHub Actions' token request endpoint, the
// variable a GitLab job's `id_tokens` names, a file or variable any other
// platform fills), and checks it; it gives the systems that ask a token
// service over HTTP their net/http client (ci.Env.Get), which the small
// exec program must not link. Those tokens live minutes and have no
// refresh token, so every Fetch gets the current one (GitHub mints a new one
// per request); package credential caches what may be cached, never in the
// keyring.
//
// A token never appears in an error: errors name the variable, file or
// setting to fix, and the claims that are wrong.

package mint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/token"
)

// Fetcher reads the CI token. Every side effect is a field.
type Fetcher struct {
	// Source is the ci system's name (--ci-token-source).
	Source string
	// Var is the variable of the variable sources.
	Var string
	// File is the file source's path.
	File string
	// Audience is asked of a token service; a token from the other sources
	// must carry it (their audience is set where the token is made).
	Audience string
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error) // default userfile.ReadPlainFile
	// HTTPClient asks a token service; default a client with a 15 s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
	// MinValidity is how long a token must still be valid when read; one
	// about to expire is refused, since nothing here can renew it.
	MinValidity time.Duration
}

// FromRequest is the Fetcher the exec args name.
func FromRequest(r *grant.Request, getenv func(string) string, now func() time.Time, margin time.Duration) *Fetcher {
	return &Fetcher{Source: r.CISource, Var: r.CITokenVar, File: r.CITokenFile, Audience: r.SubjectAudience(),
		Getenv: getenv, Now: now, MinValidity: token.Margin(margin)}
}

// Fetch returns the job's current token, checked for expiry and audience.
func (f *Fetcher) Fetch(ctx context.Context) (*grant.Issued, error) {
	sys, err := ci.Get("--ci-token-source", f.Source)
	if err != nil {
		return nil, err
	}
	s := ci.Settings{Var: f.Var, File: f.File, Audience: f.Audience}
	raw, where, err := sys.Read(ctx, s, ci.Env{Getenv: f.Getenv, ReadFile: f.ReadFile, Get: f.get})
	if err != nil {
		return nil, err
	}
	c, err := token.PeekClaims(raw)
	if err != nil {
		return nil, fmt.Errorf("%s does not hold an OIDC token (%v); check that it is the job's ID token", where, err)
	}
	now := f.now()
	if !c.Expiry.After(now.Add(f.MinValidity)) {
		return nil, fmt.Errorf("the CI token from %s expired at %s (or expires within %s): %s", where, c.Expiry.UTC().Format(time.RFC3339), f.MinValidity, sys.RenewHint(s))
	}
	if f.Audience != "" && !slices.Contains(c.Audience, f.Audience) {
		return nil, fmt.Errorf("the CI token from %s is for audience %s, but the cluster expects %s: %s", where, strings.Join(c.Audience, ", "), f.Audience, sys.AudienceHint(s))
	}
	return &grant.Issued{Raw: raw, Claims: *c}, nil
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// get is ci.Env.Get: GET rawURL with the bearer token, JSON accepted, the
// body read up to 1 MiB. Its error is the transport's, without the URL.
func (f *Fetcher) get(ctx context.Context, rawURL, bearer string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	client := f.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the job's, and its query is no secret, but keep the message short
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read the token service's response: %w", err)
	}
	return resp.StatusCode, body, nil
}
