// Package profile reads and writes access profiles: the versioned YAML
// documents in which a platform owner hands third parties the settings for
// one or more clusters (endpoint, CA pins, OIDC client, tunnel), and which
// securekapi also uses as its own registry of clusters.
//
// Parsing is strict: an unknown field or an unknown apiVersion/kind is an
// error, never silently ignored, so a typo cannot drop a pin.
package profile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/oidc"
	"github.com/securekapi/securekapi/pkg/safetext"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// APIVersion and Kind identify an access profile document.
const (
	APIVersion = "securekapi.io/v1alpha1"
	Kind       = "AccessProfile"
)

// Profile is a set of clusters.
type Profile struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Clusters   []Cluster `json:"clusters"`
}

// Cluster is one cluster's access settings.
type Cluster struct {
	Name string `json:"name"`
	// Server is the trusted secondary endpoint, https://host[:port].
	Server        string `json:"server"`
	TLSServerName string `json:"tlsServerName,omitempty"`
	// CertificateAuthorityData is a PEM CA bundle (base64 in YAML); when
	// empty the system roots plus the pins are the trust anchors.
	CertificateAuthorityData []byte   `json:"certificateAuthorityData,omitempty"`
	Pins                     []string `json:"pins,omitempty"`
	OIDC                     OIDC     `json:"oidc"`
	Namespace                string   `json:"namespace,omitempty"`
	Tunnel                   *Tunnel  `json:"tunnel,omitempty"`
	// CI lists the CI token issuers the cluster's API server trusts
	// (`kubectl securekapi expose authn-config` writes its configuration),
	// so a CI job knows which token to present and for which audience.
	CI []CIIssuer `json:"ci,omitempty"`
}

// CIIssuer is a CI provider's token issuer the API server trusts for this
// cluster.
type CIIssuer struct {
	// Provider is a CI provider of package ci: github, gitlab, oidc (any
	// other OIDC issuer, such as a cluster's service-account issuer), ...
	Provider string `json:"provider"`
	// IssuerURL is the tokens' iss.
	IssuerURL string `json:"issuerURL"`
	// Audience is the aud a job must request its token for; the API server
	// accepts no other, which binds the token to this cluster.
	Audience string `json:"audience"`
}

// OIDC is the cluster's OIDC client.
type OIDC struct {
	IssuerURL   string            `json:"issuerURL"`
	ClientID    string            `json:"clientID"`
	ExtraScopes []string          `json:"extraScopes,omitempty"`
	ExtraParams map[string]string `json:"extraParams,omitempty"`
	// CAFile is a local PEM bundle for a privately issued issuer.
	CAFile string `json:"caFile,omitempty"`
}

// Tunnel reaches the endpoint through an mTLS access gateway.
type Tunnel struct {
	Gateway           string   `json:"gateway"`
	Mode              string   `json:"mode"` // connect or direct
	GatewayServerName string   `json:"gatewayServerName,omitempty"`
	GatewayCAData     []byte   `json:"gatewayCAData,omitempty"`
	GatewayPins       []string `json:"gatewayPins,omitempty"`
	ClientCertFile    string   `json:"clientCertificateFile"`
	ClientKeyFile     string   `json:"clientKeyFile"`
}

// Parse reads a profile strictly and validates every cluster.
func Parse(data []byte) (*Profile, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a YAML access profile: %w", err)
	}
	if head.Kind != Kind {
		return nil, fmt.Errorf("kind %q is not %s", head.Kind, Kind)
	}
	if head.APIVersion != APIVersion {
		return nil, fmt.Errorf("apiVersion %q is not supported (this securekapi reads %s; upgrade securekapi if the profile is newer)", head.APIVersion, APIVersion)
	}
	var p Profile
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("access profile: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Marshal writes the profile as YAML.
func (p *Profile) Marshal() ([]byte, error) {
	p.APIVersion, p.Kind = APIVersion, Kind
	if p.Clusters == nil {
		p.Clusters = []Cluster{}
	}
	return yaml.Marshal(p)
}

// Validate checks every cluster and that names are unique.
func (p *Profile) Validate() error {
	seen := map[string]bool{}
	var errs []error
	for i := range p.Clusters {
		c := &p.Clusters[i]
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("cluster %d (%q): %w", i+1, c.Name, err))
			continue
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("cluster %q appears twice", c.Name))
		}
		seen[c.Name] = true
	}
	return errors.Join(errs...)
}

// Validate checks one cluster's settings.
func (c *Cluster) Validate() error {
	if err := CheckName(c.Name); err != nil {
		return fmt.Errorf("name %s: %w", shorten(c.Name), err)
	}
	if err := CheckEndpointURL(c.Server); err != nil {
		return fmt.Errorf("server %q: %w", c.Server, err)
	}
	if err := CheckServerName(c.TLSServerName); err != nil {
		return fmt.Errorf("tlsServerName: %w", err)
	}
	if _, err := pinning.ParsePins(c.Pins); err != nil {
		return fmt.Errorf("pins: %w", err)
	}
	if len(c.CertificateAuthorityData) > 0 {
		if _, err := trust.ParsePEMCertificates(c.CertificateAuthorityData); err != nil {
			return fmt.Errorf("certificateAuthorityData: %w", err)
		}
	}
	if len(c.Pins) == 0 && len(c.CertificateAuthorityData) == 0 {
		return errors.New("needs pins or certificateAuthorityData: securekapi does not trust an endpoint on the system roots alone (get pins with `kubectl securekapi pin URL`)")
	}
	if err := CheckIssuerURL(c.OIDC.IssuerURL); err != nil {
		return fmt.Errorf("oidc.issuerURL %q: %w", c.OIDC.IssuerURL, err)
	}
	if err := CheckClientID(c.OIDC.ClientID); err != nil {
		return fmt.Errorf("oidc.clientID: %w", err)
	}
	for _, s := range c.OIDC.ExtraScopes {
		if err := CheckScope(s); err != nil {
			return fmt.Errorf("oidc.extraScopes: %w", err)
		}
	}
	if c.Namespace != "" {
		if err := CheckNamespace(c.Namespace); err != nil {
			return fmt.Errorf("namespace %q: %w", c.Namespace, err)
		}
	}
	if err := oidc.CheckExtraParams(c.OIDC.ExtraParams); err != nil {
		return fmt.Errorf("oidc.extraParams: %w", err)
	}
	if err := validateCI(c.CI); err != nil {
		return err
	}
	if c.Tunnel != nil {
		return c.Tunnel.Validate()
	}
	return nil
}

func validateCI(issuers []CIIssuer) error {
	seen := map[string]bool{}
	for i, entry := range issuers {
		at := fmt.Sprintf("ci[%d]", i)
		if names := ci.ProviderNames(); !slices.Contains(names, entry.Provider) {
			return fmt.Errorf("%s.provider %q must be one of %s", at, entry.Provider, strings.Join(names, ", "))
		}
		if err := CheckIssuerURL(entry.IssuerURL); err != nil {
			return fmt.Errorf("%s.issuerURL %q: %w", at, entry.IssuerURL, err)
		}
		if entry.Audience == "" {
			return fmt.Errorf("%s (%s): audience is required: the token's aud binds it to this cluster", at, entry.IssuerURL)
		}
		if err := safetext.Check(entry.Audience, safetext.MaxURL); err != nil {
			return fmt.Errorf("%s.audience: %w", at, err)
		}
		if seen[entry.IssuerURL] {
			return fmt.Errorf("%s: issuer %s appears twice", at, entry.IssuerURL)
		}
		seen[entry.IssuerURL] = true
	}
	return nil
}

// shorten quotes s, cut to a readable length: an error about a 5000-letter
// name need not repeat it.
func shorten(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:60])
	}
	return fmt.Sprintf("%q", s)
}

// Validate checks the tunnel settings.
func (t *Tunnel) Validate() error {
	if err := CheckHostPort(t.Gateway); err != nil {
		return fmt.Errorf("tunnel.gateway %q: %w", t.Gateway, err)
	}
	if t.Mode != "connect" && t.Mode != "direct" {
		return fmt.Errorf("tunnel.mode %q must be connect or direct", t.Mode)
	}
	if err := CheckServerName(t.GatewayServerName); err != nil {
		return fmt.Errorf("tunnel.gatewayServerName: %w", err)
	}
	if t.ClientCertFile == "" || t.ClientKeyFile == "" {
		return errors.New("tunnel needs clientCertificateFile and clientKeyFile")
	}
	if _, err := pinning.ParsePins(t.GatewayPins); err != nil {
		return fmt.Errorf("tunnel.gatewayPins: %w", err)
	}
	return nil
}

// Find returns the named cluster.
func (p *Profile) Find(name string) (*Cluster, bool) {
	for i := range p.Clusters {
		if p.Clusters[i].Name == name {
			return &p.Clusters[i], true
		}
	}
	return nil, false
}

// Upsert adds or replaces a cluster by name and keeps the list sorted.
// It reports whether an existing entry changed.
func (p *Profile) Upsert(c Cluster) (replaced bool) {
	for i := range p.Clusters {
		if p.Clusters[i].Name == c.Name {
			p.Clusters[i] = c
			return true
		}
	}
	p.Clusters = append(p.Clusters, c)
	sort.Slice(p.Clusters, func(i, j int) bool { return p.Clusters[i].Name < p.Clusters[j].Name })
	return false
}

// Names lists the cluster names.
func (p *Profile) Names() []string {
	out := make([]string, len(p.Clusters))
	for i, c := range p.Clusters {
		out[i] = c.Name
	}
	return out
}

// Equal reports whether two clusters have the same settings.
func Equal(a, b Cluster) bool {
	x, _ := yaml.Marshal(a)
	y, _ := yaml.Marshal(b)
	return bytes.Equal(x, y)
}

// ReadCAFile reads a --ca-file as add and profile take it: PEM, or base64
// PEM (as a kubeconfig's certificate-authority-data holds it). It is not
// userfile.ReadTrustFile on purpose: the person typing the command names
// the file, once, and the bytes are copied into the profile, where the
// endpoint check verifies against them and `use` pins them. So a pipe
// (`--ca-file <(kubectl get cm ...)`) is fine here. ReadTrustFile is for
// trust named by a kubeconfig, which anyone may have written and which is
// read again on every call (issue #23).
func ReadCAFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	return DecodeCAData(data), nil
}

// DecodeCAData accepts PEM or base64 PEM, for flags and files.
func DecodeCAData(data []byte) []byte {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return data
	}
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil {
		return dec
	}
	return data
}
