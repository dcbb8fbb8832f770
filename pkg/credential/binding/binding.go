package binding

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/securekapi/securekapi/pkg/hostport"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Binding ties tokens to one endpoint: kubectl must be talking to Server,
// verifying its certificate for TLSServerName, and trusting no CA but the
// pinned ones. kubectl passes what it uses in KUBERNETES_EXEC_INFO when the
// exec stanza sets provideClusterInfo.
//
// A proxy-url in that cluster info is allowed: kubectl tunnels through it
// (HTTP CONNECT or SOCKS) and runs its TLS to Server inside the tunnel, with
// the roots and name checked here, so the proxy sees only ciphertext.
type Binding struct {
	// Cluster is the registered name, for the `use` command in messages.
	Cluster string
	Server  string
	// TLSServerName is the name the certificate must be verified for;
	// empty means the host of Server, as for kubectl.
	TLSServerName string
	Pins          []pinning.Pin
	// IssuerTrust is how the issuer's TLS is verified (SystemRoots,
	// or the OIDC CA bundle's hash): not checked against kubectl, which
	// never talks to the issuer, but part of what a person approved,
	// since it decides where a refresh goes.
	IssuerTrust string
}

// Check refuses to release a token unless every trust decision kubectl
// will make for c is the one the binding names.
func (b Binding) Check(c *Cluster) error {
	if b.Server == "" || len(b.Pins) == 0 {
		return fmt.Errorf("refusing to release a token: the exec stanza must bind it with both --server and --pin; run `%s` to write them", b.useCommand())
	}
	if c == nil {
		return fmt.Errorf("kubectl sent no cluster info, so securekapi cannot check where the token would go; set `provideClusterInfo: true` in the kubeconfig exec stanza (`%s` writes it)", b.useCommand())
	}
	if c.InsecureSkipTLSVerify {
		return fmt.Errorf("refusing to release a token to %s: the kubeconfig cluster sets insecure-skip-tls-verify; run `%s` again", c.Server, b.useCommand())
	}
	if normalizeServer(c.Server) != normalizeServer(b.Server) {
		return fmt.Errorf("refusing to release a token to %s: it is bound to %s; if this kubeconfig was edited, run `%s` again", c.Server, b.Server, b.useCommand())
	}
	if _, err := (pinning.Endpoint{URL: b.Server}).Address(); err != nil {
		return fmt.Errorf("refusing to release a token: the exec stanza's --server: %w", err)
	}
	// The name a TLS client verifies: tls-server-name, else the URL host.
	got := pinning.Endpoint{URL: c.Server, TLSServerName: c.TLSServerName}.ServerName()
	want := pinning.Endpoint{URL: b.Server, TLSServerName: b.TLSServerName}.ServerName()
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("refusing to release a token to %s: kubectl would verify its certificate for %q, but the token is bound to the name %q; run `%s` again (it records the name in the exec stanza)", c.Server, got, want, b.useCommand())
	}
	if err := b.checkAnchors(c.CAData); err != nil {
		return fmt.Errorf("refusing to release a token to %s: %w; run `%s` again to re-verify the endpoint", c.Server, err, b.useCommand())
	}
	return nil
}

// checkAnchors requires every root kubectl would trust from caData to carry
// a pinned key. client-go builds that pool with AppendCertsFromPEM
// (transport.rootCertPool), which silently skips PEM blocks with headers,
// other block types and unparsable certificates. So every CERTIFICATE
// block, headers or not, must carry a pinned key; no block may be of
// another type or unreadable; and a block with headers must also appear
// without them, or kubectl would trust a different set than the one
// checked here. The pins come from pinning.ReadPEMCertificates, which
// finds a certificate's key as crypto/x509 does without linking it (the
// small exec program runs this on every kubectl call).
func (b Binding) checkAnchors(caData []byte) error {
	if len(caData) == 0 {
		return fmt.Errorf("the kubeconfig cluster has no certificate-authority-data, so kubectl would trust the system roots")
	}
	if !slices.ContainsFunc(pinning.ScanPEM(caData), usableByKubectl) {
		return fmt.Errorf("its certificate-authority-data holds no certificate kubectl can use")
	}
	certs, err := pinning.ReadPEMCertificates(caData)
	if err != nil {
		return fmt.Errorf("its certificate-authority-data is unreadable: %v", err)
	}
	for _, cert := range certs {
		if !slices.Contains(b.Pins, cert.Pin) {
			return fmt.Errorf("kubectl would trust %q (pin %s), which is not one of the pinned keys %v", cert.Subject, cert.Pin, b.Pins)
		}
	}
	for _, cert := range certs {
		if cert.Headered && !slices.ContainsFunc(certs, func(c pinning.PEMCertificate) bool { return !c.Headered && bytes.Equal(c.DER, cert.DER) }) {
			return fmt.Errorf("its certificate-authority-data reads differently to kubectl than to securekapi (PEM headers?)")
		}
	}
	return nil
}

// usableByKubectl: b is a block AppendCertsFromPEM would add.
func usableByKubectl(b pinning.PEMBlock) bool {
	return b.Type == "CERTIFICATE" && !b.Headered && b.Err == nil
}

func (b Binding) useCommand() string {
	if b.Cluster == "" {
		return "kubectl securekapi use NAME"
	}
	return "kubectl securekapi use " + b.Cluster
}

// SameServer reports whether two server URLs name the same endpoint, as
// the binding compares them (scheme, host, port with its default written
// out, path).
func SameServer(a, b string) bool { return normalizeServer(a) == normalizeServer(b) }

// normalizeServer compares URLs by scheme, host and default port.
func normalizeServer(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return strings.TrimRight(strings.ToLower(raw), "/")
	}
	addr, err := hostport.OfURL(u)
	if err != nil {
		return strings.TrimRight(strings.ToLower(raw), "/")
	}
	return strings.ToLower(u.Scheme) + "://" + addr + strings.TrimRight(u.Path, "/")
}
