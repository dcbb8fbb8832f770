package stack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser plays a person at Dex's login pages: it follows redirects, fills
// the device-code and login forms, and ends at wherever Dex sends it (the
// plugin's loopback callback, or the device flow's "done" page). Dex's pages
// need no JavaScript, so an HTTP client with a cookie jar is enough; the
// flows themselves (PKCE, device code) run for real.
type Browser struct {
	User     User
	DexCAPEM []byte
	// UserCode is typed into Dex's device page when it asks for one.
	UserCode string
}

var (
	formRe  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input[^>]*>`)
	attrRe  = regexp.MustCompile(`(?is)\b(name|value)="([^"]*)"`)
	// localRe is the "Log in with Email" link of Dex's connector choice,
	// shown since the stack's Dex has a second connector (the CI issuer's).
	localRe = regexp.MustCompile(`(?is)<a href="([^"]*/auth/local[^"]*)"`)
)

// Open visits rawURL and completes every form Dex shows. It returns the
// body of the last page.
func (b *Browser) Open(ctx context.Context, rawURL string) (string, error) {
	jar, _ := cookiejar.New(nil)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.DexCAPEM)
	client := &http.Client{
		Jar:       jar,
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	page, at, err := fetch(client, req)
	if err != nil {
		return "", err
	}
	for step := 0; step < 6; step++ {
		if link := localRe.FindStringSubmatch(page); link != nil && !strings.Contains(page, `name="password"`) {
			// A person picks the email login among the connectors.
			next, err := at.Parse(html.UnescapeString(link[1]))
			if err != nil {
				return "", err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			if err != nil {
				return "", err
			}
			if page, at, err = fetch(client, req); err != nil {
				return "", err
			}
			continue
		}
		m := formRe.FindStringSubmatch(page)
		if m == nil || !(strings.Contains(m[2], `name="password"`) || strings.Contains(m[2], `name="user_code"`)) {
			return page, nil // no login or device form: the flow is done
		}
		action, err := at.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return "", err
		}
		form := url.Values{}
		for _, input := range inputRe.FindAllString(m[2], -1) {
			var name, value string
			for _, a := range attrRe.FindAllStringSubmatch(input, -1) {
				if strings.EqualFold(a[1], "name") {
					name = html.UnescapeString(a[2])
				} else {
					value = html.UnescapeString(a[2])
				}
			}
			switch name {
			case "":
				continue
			case "login":
				value = b.User.Email
			case "password":
				value = b.User.Password
			case "user_code":
				if b.UserCode != "" {
					value = b.UserCode
				}
			}
			form.Set(name, value)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if page, at, err = fetch(client, req); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("browser: still on a form after 6 steps at %s", at)
}

func fetch(client *http.Client, req *http.Request) (string, *url.URL, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("browser: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode >= 400 {
		return "", nil, fmt.Errorf("browser: %s answered %s: %.300s", resp.Request.URL.Redacted(), resp.Status, body)
	}
	return string(body), resp.Request.URL, nil
}
