// Package hostport is the one reading of host:port addresses: splitting
// one with a checked port, and the address a URL dials, with its scheme's
// default port. The token binding, the endpoint check, the tunnel's
// gateway and targets, profiles and expose's HAProxy configuration must all
// agree on when two addresses are the same place, so they all ask here.
//
// It links the standard library only: the small exec program's binding
// check uses it on every kubectl call.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package hostport

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is the port a URL of scheme reaches when it names none:
// 443 for https, 80 for http, "" for any other scheme.
func DefaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// OfURL is the host:port u dials: its host, lower-cased, and its port in
// canonical form ("0443" is 443), else its scheme's default. It fails for a URL with no host, a port that
// is not 1-65535, or no port and a scheme with no default.
func OfURL(u *url.URL) (string, error) {
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("%q has no host", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		if port = DefaultPort(u.Scheme); port == "" {
			return "", fmt.Errorf("%q has no port, and %s:// has no default port", u.Redacted(), u.Scheme)
		}
	}
	if err := CheckPort(port); err != nil {
		return "", fmt.Errorf("%q: %w", u.Redacted(), err)
	}
	n, _ := strconv.Atoi(port) // checked: "0443" is 443
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// Split splits addr into its host and port, and checks the port. The port
// must be written: guessing one would let "host" and "host:443" silently
// name the same place. The host may be empty (a listen address) and keeps
// its case: callers that compare addresses use Normalize.
func Split(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("%q must be host:port with an explicit port", addr)
	}
	if err := CheckPort(port); err != nil {
		return "", "", err
	}
	return host, port, nil
}

// Normalize is addr with a lower-case host and a canonical port ("0443"
// is 443), so equal places compare equal; it fails as Split does, and for
// an empty host.
func Normalize(addr string) (string, error) {
	host, port, err := Split(addr)
	if err != nil {
		return "", err
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host", addr)
	}
	n, _ := strconv.Atoi(port) // checked by Split
	return net.JoinHostPort(strings.ToLower(host), strconv.Itoa(n)), nil
}

// CheckPort checks that port is a TCP port number, 1 to 65535.
func CheckPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(port, "+") {
		return errors.New("port " + port + " is not a TCP port (1-65535)")
	}
	return nil
}
