package profile

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/securekapi/securekapi/pkg/hostport"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// The checks below judge one value each and say what is wrong with it
// without naming where it came from: Cluster.Validate prefixes the profile
// field, `add` the flag the user typed.

// MaxNameLength is the longest cluster name: a kubeconfig context, cluster
// and user are named after it, and Kubernetes names stop at 253.
const MaxNameLength = 253

// nameRe is compiled on first use: package init runs on every exec
// credential call, which never validates a profile.
var nameRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)
})

// namespaceRe is a DNS-1123 label, what Kubernetes requires of a namespace.
var namespaceRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
})

// CheckName checks a cluster name.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("is empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("is %d characters long; the limit is %d", len(name), MaxNameLength)
	case !nameRe().MatchString(name):
		return errors.New("must be lower-case letters, digits, '-', '_' or '.', and start and end with a letter or digit")
	}
	return nil
}

// CheckEndpointURL checks an API endpoint URL: https://host[:port] and
// nothing more, since kubectl and the token binding use it as given.
func CheckEndpointURL(raw string) error {
	u, err := checkHTTPS(raw)
	if err != nil {
		return err
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("has a path (%s): the endpoint is https://host[:port] only", u.Path)
	}
	return nil
}

// CheckIssuerURL checks an OIDC issuer URL: https, and a path is allowed
// (https://login.example.com/dex), but no query or fragment (OIDC
// Discovery 1.0 section 3).
func CheckIssuerURL(raw string) error {
	_, err := checkHTTPS(raw)
	return err
}

func checkHTTPS(raw string) (*url.URL, error) {
	if err := safetext.Check(raw, safetext.MaxURL); err != nil {
		return nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("is not a URL: %w", err)
	}
	switch {
	case u.Scheme != "https" || u.Host == "" || u.Hostname() == "":
		return nil, errors.New("must be an https://host[:port] URL")
	case u.User != nil:
		return nil, errors.New("must not carry a user name or password")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("must not have a query (?...)")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, errors.New("must not have a fragment (#...)")
	}
	if p := u.Port(); p != "" {
		if err := hostport.CheckPort(p); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// CheckHostPort checks a host:port address, such as a tunnel gateway.
func CheckHostPort(addr string) error {
	host, _, err := hostport.Split(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("must be host:port: the host is missing")
	}
	return nil
}

// CheckNamespace checks a namespace name (a DNS-1123 label).
func CheckNamespace(ns string) error {
	if len(ns) > 63 {
		return fmt.Errorf("is %d characters long; a namespace has at most 63", len(ns))
	}
	if !namespaceRe().MatchString(ns) {
		return errors.New("must be a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit")
	}
	return nil
}

// CheckClientID checks an OIDC client ID: required, and printable text of
// bounded length (it is shown in the single sign-on confirmation, where a
// line break or an escape sequence could forge the lines a person approves).
func CheckClientID(id string) error {
	if id == "" {
		return errors.New("is required")
	}
	return safetext.Check(id, safetext.MaxClientID)
}

// CheckServerName checks a TLS server name (a host name or IP address
// kubectl verifies the endpoint's certificate for).
func CheckServerName(name string) error {
	return safetext.Check(name, safetext.MaxHostName)
}

// CheckScope checks one OAuth scope: printable ASCII without spaces, quotes
// or backslashes (RFC 6749 section 3.3). A space would split it into two.
func CheckScope(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if len(s) > safetext.MaxToken {
		return fmt.Errorf("is %d bytes long; the limit is %d", len(s), safetext.MaxToken)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' || r == '\\' {
			return fmt.Errorf("%q contains %q: give each scope on its own (repeat the flag), without spaces", s, r)
		}
	}
	return nil
}
