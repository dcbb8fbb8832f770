package pinning

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/securekapi/securekapi/pkg/hostport"
)

// Endpoint is where kubectl will connect: the trusted secondary endpoint.
type Endpoint struct {
	// URL is https://host[:port][/path]; the port defaults to 443.
	URL string
	// TLSServerName, when set, is sent as SNI and is the name the certificate
	// must be valid for, instead of the URL's host. Use it when the endpoint
	// is reached by an address or alias its certificate does not name.
	TLSServerName string
}

// Address returns the host:port to dial.
func (e Endpoint) Address() (string, error) {
	u, err := e.parse()
	if err != nil {
		return "", err
	}
	addr, err := hostport.OfURL(u)
	if err != nil {
		return "", fmt.Errorf("endpoint %w", err)
	}
	return addr, nil
}

// ServerName returns the name the certificate must be valid for:
// TLSServerName, else the URL's host, which may be an IP literal (then the
// certificate must carry it as an IP SAN). It is empty for a malformed URL.
func (e Endpoint) ServerName() string {
	if e.TLSServerName != "" {
		return e.TLSServerName
	}
	u, err := e.parse()
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func (e Endpoint) parse() (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(e.URL))
	if err != nil {
		return nil, fmt.Errorf("endpoint URL %q is malformed (%v): expected https://host[:port]", e.URL, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint URL %q must start with https://: the endpoint has to present a certificate to verify", e.URL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("endpoint URL %q has no host: expected https://host[:port]", e.URL)
	}
	return u, nil
}
