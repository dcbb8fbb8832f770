// Package citoken gets a CI job's own OIDC token: from GitHub Actions'
// token request endpoint, from the variable a GitLab job's `id_tokens` names,
// or from a file or variable any other platform fills (a projected
// service-account token, for one). Those tokens live minutes and have no
// refresh token, so every Fetch gets the current one (GitHub mints a new one
// per request); package credential caches what may be cached, never in the
// keyring.
//
// A token never appears in an error: errors name the variable, file or
// setting to fix, and the claims that are wrong.
package citoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/token"
)

// Fetcher reads the CI token. Every side effect is a field.
type Fetcher struct {
	// Source is access.CISourceGitHub, CISourceGitLab, CISourceFile or
	// CISourceEnv.
	Source string
	// Var is the variable of the gitlab and env sources.
	Var string
	// File is the file source's path.
	File string
	// Audience is asked of GitHub; a token from the other sources must
	// carry it (their audience is set where the token is made).
	Audience string
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error) // default os.ReadFile
	// HTTPClient asks GitHub; default a client with a 15 s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
	// MinValidity is how long a token must still be valid when read; one
	// about to expire is refused, since nothing here can renew it.
	MinValidity time.Duration
}

// Token is a CI token and its claims (read, not verified: the API server
// or the exchanging issuer verifies the signature).
type Token struct {
	Raw    string
	Claims token.Claims
}

// FromFlags is the Fetcher the exec args name.
func FromFlags(a *access.Flags, getenv func(string) string, now func() time.Time, client *http.Client) *Fetcher {
	return &Fetcher{Source: a.CISource, Var: a.CITokenVar, File: a.CITokenFile, Audience: a.SubjectAudience(),
		Getenv: getenv, Now: now, HTTPClient: client, MinValidity: token.Margin(a.ExpiryMargin)}
}

// Fetch returns the job's current token, checked for expiry and audience.
func (f *Fetcher) Fetch(ctx context.Context) (*Token, error) {
	raw, where, err := f.read(ctx)
	if err != nil {
		return nil, err
	}
	c, err := token.PeekClaims(raw)
	if err != nil {
		return nil, fmt.Errorf("%s does not hold an OIDC token (%v); check that it is the job's ID token", where, err)
	}
	now := f.now()
	if !c.Expiry.After(now.Add(f.MinValidity)) {
		return nil, fmt.Errorf("the CI token from %s expired at %s (or expires within %s): %s", where, c.Expiry.UTC().Format(time.RFC3339), f.MinValidity, f.renewHint())
	}
	if f.Audience != "" && !slices.Contains(c.Audience, f.Audience) {
		return nil, fmt.Errorf("the CI token from %s is for audience %s, but the cluster expects %s: %s", where, strings.Join(c.Audience, ", "), f.Audience, f.audienceHint())
	}
	return &Token{Raw: raw, Claims: *c}, nil
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// read returns the raw token and, for messages, where it came from.
func (f *Fetcher) read(ctx context.Context) (string, string, error) {
	switch f.Source {
	case access.CISourceGitHub:
		raw, err := f.requestGitHub(ctx)
		return raw, "GitHub Actions' token service", err
	case access.CISourceGitLab, access.CISourceEnv:
		where := "$" + f.Var
		raw := strings.TrimSpace(f.Getenv(f.Var))
		if raw == "" {
			if f.Source == access.CISourceGitLab {
				return "", where, fmt.Errorf("%s is not set: add it to the job's `id_tokens` (%s: {aud: %s}) in .gitlab-ci.yml, or fix --ci-token-var", f.Var, f.Var, f.Audience)
			}
			return "", where, fmt.Errorf("%s is not set: the job must put its OIDC token there, or fix --ci-token-var", f.Var)
		}
		return raw, where, nil
	case access.CISourceFile:
		read := f.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		b, err := read(f.File)
		if err != nil {
			return "", f.File, fmt.Errorf("read the CI token file: %w; fix --ci-token-file, or mount the token there", err)
		}
		raw := strings.TrimSpace(string(b))
		if raw == "" {
			return "", f.File, fmt.Errorf("the CI token file %s is empty", f.File)
		}
		return raw, f.File, nil
	}
	return "", "", fmt.Errorf("--ci-token-source %q: use github, gitlab, file or env", f.Source)
}

// requestGitHub asks the job's token service for a token for f.Audience:
// GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with the job's request
// token as a bearer token (GitHub's documented API, which
// @actions/core getIDToken uses). The URL already carries a query.
func (f *Fetcher) requestGitHub(ctx context.Context) (string, error) {
	reqURL, reqToken := f.Getenv(access.GitHubRequestURLVar), f.Getenv(access.GitHubRequestTokenVar)
	if reqURL == "" || reqToken == "" {
		missing := access.GitHubRequestURLVar
		if reqURL != "" {
			missing = access.GitHubRequestTokenVar
		}
		return "", fmt.Errorf("%s is not set: this is not a GitHub Actions job, or its workflow lacks `permissions: id-token: write`", missing)
	}
	u, err := url.Parse(reqURL)
	if err != nil || u.Scheme != "https" {
		return "", fmt.Errorf("%s is not an https URL", access.GitHubRequestURLVar)
	}
	if f.Audience != "" {
		q := u.Query()
		q.Set("audience", f.Audience)
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+reqToken)
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
		return "", fmt.Errorf("request the job's OIDC token from %s: %v", u.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read GitHub's token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The body is not quoted: a token service's error page may echo the request.
		return "", fmt.Errorf("GitHub's token service answered %s to the request for audience %s; is `permissions: id-token: write` set for this job, and is %s current?", resp.Status, f.Audience, access.GitHubRequestTokenVar)
	}
	var out struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(body, &out) != nil || out.Value == "" {
		return "", errors.New("GitHub's token service answered without a token (want JSON with a value)")
	}
	return out.Value, nil
}

func (f *Fetcher) renewHint() string {
	switch f.Source {
	case access.CISourceGitHub:
		return "GitHub minted an expired token; check this runner's clock"
	case access.CISourceGitLab:
		return "GitLab sets " + f.Var + " once when the job starts; run kubectl earlier in the job, or split it into shorter jobs"
	case access.CISourceFile:
		return "whatever writes " + f.File + " has stopped renewing it (for a projected service-account token, check the pod's volume)"
	}
	return "put a current token in $" + f.Var
}

func (f *Fetcher) audienceHint() string {
	switch f.Source {
	case access.CISourceGitHub:
		return "fix --ci-token-audience (or --audience)"
	case access.CISourceGitLab:
		return "set `aud: " + f.Audience + "` for " + f.Var + " in the job's id_tokens"
	case access.CISourceFile:
		return "have the token made for audience " + f.Audience + " (for a projected service-account token, its `audience` field)"
	}
	return "have the token made for audience " + f.Audience
}
