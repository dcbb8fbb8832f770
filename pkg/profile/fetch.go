package profile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBytes bounds a profile read from the network or stdin: far above any
// real profile, far below what would hurt to hold in memory.
const MaxBytes = 4 << 20

// maxRedirects bounds the same-origin redirects Fetch follows.
const maxRedirects = 5

// ErrPlainHTTP refuses a profile URL that is not https: over plain http
// anyone on the path could swap the pins, endpoint and issuer.
var ErrPlainHTTP = errors.New("profiles are fetched over verified https only; use an https:// URL")

// Fetch gets the profile at url, which must be https, with client (its
// transport's TLS verification applies; its own CheckRedirect is replaced).
// It follows a redirect only within the same https origin, refuses an
// answer other than 200 OK, and refuses a body over MaxBytes.
func Fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if !strings.HasPrefix(url, "https://") {
		return nil, ErrPlainHTTP
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch profile %s: %w; check the URL", url, err)
	}
	c := *client
	c.CheckRedirect = sameOriginRedirect
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch profile %s: the server answered %s; check the URL, or ask the platform owner for the profile's current one", url, resp.Status)
	}
	data, err := Read(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("fetch profile %s: %w", url, err)
	}
	return data, nil
}

// Read reads a profile from r, refusing one over MaxBytes rather than
// cutting it short (a profile cut at a document boundary could still parse,
// with clusters missing).
func Read(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the profile: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("the profile is over %d MiB, far more than any access profile; check that this is the profile the platform owner meant", MaxBytes>>20)
	}
	return data, nil
}

// sameOriginRedirect follows a redirect only to the same https origin
// (scheme, host and port): a move within the site (a trailing slash, a
// versioned path) is followed, since it stays under the TLS identity the
// user named. Everything else is refused: a step to http would hand the
// profile (pins, endpoint, issuer) to anyone on the path, and a step to
// another host, even over verified https, would let an open redirect on the
// owner's site serve an attacker's profile under the owner's name.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	from := via[0].URL
	if req.URL.Scheme != "https" || !strings.EqualFold(req.URL.Host, from.Host) {
		return fmt.Errorf("refusing the redirect from %s to %s: a profile is only followed within the same https origin; if the platform owner really moved it, import the new URL directly", via[len(via)-1].URL.Redacted(), req.URL.Redacted())
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects from %s; ask the platform owner for the profile's final URL and import that", len(via), from.Redacted())
	}
	return nil
}
