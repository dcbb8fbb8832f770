package profile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/trust"
)

// Change is one setting that differs between two entries for a cluster,
// rendered for a person to judge.
type Change struct {
	Field, Old, New string
}

// String shows the change on one line, its values escaped
// (safetext.Escape): they come from a profile.
func (c Change) String() string {
	return fmt.Sprintf("%s: %s -> %s", c.Field, safetext.Escape(c.Old), safetext.Escape(c.New))
}

// Diff lists what replacing old with new would change, trust settings
// first: the endpoint, what it is trusted on, the issuer, the tunnel.
func Diff(old, new Cluster) []Change {
	var out []Change
	add := func(field, a, b string) {
		if a != b {
			out = append(out, Change{Field: field, Old: orNone(a), New: orNone(b)})
		}
	}
	add("server", old.Server, new.Server)
	add("tlsServerName", old.TLSServerName, new.TLSServerName)
	add("pins", strings.Join(old.Pins, ", "), strings.Join(new.Pins, ", "))
	add("certificateAuthorityData", describeCAs(old.CertificateAuthorityData), describeCAs(new.CertificateAuthorityData))
	add("oidc.issuerURL", old.OIDC.IssuerURL, new.OIDC.IssuerURL)
	add("oidc.clientID", old.OIDC.ClientID, new.OIDC.ClientID)
	add("oidc.extraScopes", strings.Join(old.OIDC.ExtraScopes, ", "), strings.Join(new.OIDC.ExtraScopes, ", "))
	add("oidc.extraParams", FormatParams(old.OIDC.ExtraParams), FormatParams(new.OIDC.ExtraParams))
	add("oidc.caFile", old.OIDC.CAFile, new.OIDC.CAFile)
	add("namespace", old.Namespace, new.Namespace)
	add("ci", describeCI(old.CI), describeCI(new.CI))
	switch {
	case old.Tunnel == nil && new.Tunnel == nil:
	case old.Tunnel == nil || new.Tunnel == nil:
		add("tunnel", describeTunnel(old.Tunnel), describeTunnel(new.Tunnel))
	default:
		o, n := old.Tunnel, new.Tunnel
		add("tunnel.gateway", o.Gateway, n.Gateway)
		add("tunnel.mode", o.Mode, n.Mode)
		add("tunnel.gatewayServerName", o.GatewayServerName, n.GatewayServerName)
		add("tunnel.gatewayCAData", describeCAs(o.GatewayCAData), describeCAs(n.GatewayCAData))
		add("tunnel.gatewayPins", strings.Join(o.GatewayPins, ", "), strings.Join(n.GatewayPins, ", "))
		add("tunnel.clientCertificateFile", o.ClientCertFile, n.ClientCertFile)
		add("tunnel.clientKeyFile", o.ClientKeyFile, n.ClientKeyFile)
	}
	return out
}

// describeCI renders CI issuers as provider issuer (audience AUD).
func describeCI(issuers []CIIssuer) string {
	parts := make([]string, len(issuers))
	for i, ci := range issuers {
		parts[i] = fmt.Sprintf("%s %s (audience %s)", ci.Provider, ci.IssuerURL, ci.Audience)
	}
	return strings.Join(parts, "; ")
}

// FormatParams renders extra parameters as name=value, sorted.
func FormatParams(params map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		parts = append(parts, k+"="+params[k])
	}
	return strings.Join(parts, ", ")
}

// describeCAs names the certificates of a PEM bundle by subject and pin,
// so a swapped CA with a familiar name still shows as different.
func describeCAs(pemData []byte) string {
	if len(pemData) == 0 {
		return ""
	}
	certs, err := trust.ParsePEMCertificates(pemData)
	if err != nil {
		return "unreadable PEM"
	}
	var parts []string
	for _, c := range certs {
		parts = append(parts, fmt.Sprintf("%q (%s)", c.Subject.String(), trust.PinFor(c)))
	}
	return strings.Join(parts, ", ")
}

func describeTunnel(t *Tunnel) string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf("gateway %s (%s)", t.Gateway, t.Mode)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
