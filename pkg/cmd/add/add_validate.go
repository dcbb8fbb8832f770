package add

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/securekapi/securekapi/pkg/localproxy"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// validateFlags checks add's settings in the terms the user typed them,
// flag by flag, before profile.Cluster.Validate (which names profile fields)
// has the last word.
func (o *AddOptions) validateFlags() error {
	c := &o.Cluster
	if err := profile.CheckName(c.Name); err != nil {
		return fmt.Errorf("cluster name: %w", err)
	}
	if c.Server == "" {
		return errors.New("--server is required: the trusted endpoint, https://host[:port]")
	}
	if err := profile.CheckEndpointURL(c.Server); err != nil {
		return fmt.Errorf("--server %q: %w", c.Server, err)
	}
	if err := profile.CheckServerName(c.TLSServerName); err != nil {
		return fmt.Errorf("--tls-server-name: %w", err)
	}
	if _, err := pinning.ParsePins(c.Pins); err != nil {
		return fmt.Errorf("--pin: %w", err)
	}
	if o.CAFile != "" {
		if _, err := trust.ParsePEMCertificates(c.CertificateAuthorityData); err != nil {
			return fmt.Errorf("--ca-file %s: %w", o.CAFile, err)
		}
	}
	if len(c.Pins) == 0 && o.CAFile == "" {
		return errors.New("give --pin sha256:... (from your platform team; they get it with `kubectl securekapi pin URL`) or --ca-file: securekapi does not trust an endpoint on the system roots alone")
	}
	if c.OIDC.IssuerURL == "" {
		return errors.New("--oidc-issuer-url is required")
	}
	if err := profile.CheckIssuerURL(c.OIDC.IssuerURL); err != nil {
		return fmt.Errorf("--oidc-issuer-url %q: %w", c.OIDC.IssuerURL, err)
	}
	if c.OIDC.ClientID == "" {
		return errors.New("--oidc-client-id is required")
	}
	if err := profile.CheckClientID(c.OIDC.ClientID); err != nil {
		return fmt.Errorf("--oidc-client-id: %w", err)
	}
	for _, s := range c.OIDC.ExtraScopes {
		if err := profile.CheckScope(s); err != nil {
			return fmt.Errorf("--oidc-extra-scope: %w", err)
		}
	}
	if c.Namespace != "" {
		if err := profile.CheckNamespace(c.Namespace); err != nil {
			return fmt.Errorf("--namespace %q: %w", c.Namespace, err)
		}
	}
	return o.validateTunnelFlags()
}

// validateTunnelFlags refuses tunnel settings without a gateway: they
// would be dropped silently, and the endpoint reached directly.
func (o *AddOptions) validateTunnelFlags() error {
	t := o.Tunnel
	if t.Gateway == "" {
		for flag, value := range map[string]string{
			"--tunnel-client-cert": t.ClientCertFile, "--tunnel-client-key": t.ClientKeyFile,
			"--tunnel-ca-file": o.TunnelCAFile, "--tunnel-server-name": t.GatewayServerName,
		} {
			if value != "" {
				return fmt.Errorf("%s needs --tunnel-gateway host:port: without a gateway no tunnel is used", flag)
			}
		}
		if len(t.GatewayPins) > 0 {
			return errors.New("--tunnel-pin needs --tunnel-gateway host:port: without a gateway no tunnel is used")
		}
		return nil
	}
	if err := profile.CheckHostPort(t.Gateway); err != nil {
		return fmt.Errorf("--tunnel-gateway %q: %w", t.Gateway, err)
	}
	if err := localproxy.Mode(t.Mode).Check(); err != nil {
		return fmt.Errorf("--tunnel-mode %w", err)
	}
	if err := profile.CheckServerName(t.GatewayServerName); err != nil {
		return fmt.Errorf("--tunnel-server-name: %w", err)
	}
	if t.ClientCertFile == "" || t.ClientKeyFile == "" {
		return errors.New("--tunnel-gateway needs --tunnel-client-cert and --tunnel-client-key")
	}
	if o.Cluster.Tunnel != nil && len(o.Cluster.Tunnel.GatewayCAData) > 0 {
		if _, err := trust.ParsePEMCertificates(o.Cluster.Tunnel.GatewayCAData); err != nil {
			return fmt.Errorf("--tunnel-ca-file %s: %w", o.TunnelCAFile, err)
		}
	}
	if _, err := pinning.ParsePins(t.GatewayPins); err != nil {
		return fmt.Errorf("--tunnel-pin: %w", err)
	}
	return nil
}

// completeOIDCCAFile checks that --oidc-ca-file holds at least one PEM
// certificate and makes its path absolute: the path is stored and later
// read by the exec plugin, which kubectl runs from any directory.
func completeOIDCCAFile(path *string) error {
	if *path == "" {
		return nil
	}
	data, err := os.ReadFile(*path)
	if err != nil {
		return fmt.Errorf("--oidc-ca-file: %w", err)
	}
	if _, err := trust.ParsePEMCertificates(data); err != nil {
		return fmt.Errorf("--oidc-ca-file %s: %w", *path, err)
	}
	abs, err := filepath.Abs(*path)
	if err != nil {
		return fmt.Errorf("--oidc-ca-file: %w", err)
	}
	*path = abs
	return nil
}
