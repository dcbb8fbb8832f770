package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Hydra is a real ory/hydra v2.3.0 (tools/hydra), the OAuth2 server the
// client credentials grant is tested against: Dex at the version the module
// proxy serves has no client_credentials grant. It runs with its in-memory
// store (DSN=memory), serves its public API over HTTPS with its own CA, and
// issues JWT access tokens (strategies.access_token: jwt), signed with keys
// it publishes in its JWKS, so kube-apiserver can verify them as it does ID
// tokens.
type Hydra struct {
	// IssuerURL is the public API and the iss of its tokens.
	IssuerURL string
	CA        *CA
	CAFile    string
	// AdminURL is the admin API (loopback, plain HTTP, for setup only).
	AdminURL string

	proc *process
	dir  string
}

// HydraAudience is the audience the stack's kube-apiserver accepts hydra's
// tokens for (its authentication configuration names hydra as a generic
// OIDC issuer); HydraGroup is the group they map to.
const (
	HydraAudience = "kube"
	HydraGroup    = "ci:oidc"
)

// startHydra runs hydra before kube-apiserver, whose authentication
// configuration trusts it, and tracks it like every other process.
func (s *Stack) startHydra(ctx context.Context) (err error) {
	if s.Hydra, err = StartHydra(ctx, s.toolsBin, s.path("hydra"), 0); err != nil {
		return err
	}
	s.track(s.Hydra.proc)
	return nil
}

// hydraAuthnArgs are the `expose authn-config` flags that trust hydra.
func (s *Stack) hydraAuthnArgs() []string {
	return []string{"--ci", "oidc=" + s.Hydra.IssuerURL, "--ci-ca-file", s.Hydra.CAFile, "--ci-audience", HydraAudience}
}

// HydraClient is a confidential client allowed the client credentials
// grant for Audience.
type HydraClient struct {
	ID, Secret string
	Audience   []string
	Scope      string
}

// StartHydra runs hydra from toolsBin with its files in dir, issuing access
// tokens that live tokenTTL (default 5m, a CI token's lifetime).
func StartHydra(ctx context.Context, toolsBin, dir string, tokenTTL time.Duration) (_ *Hydra, err error) {
	if tokenTTL == 0 {
		tokenTTL = 5 * time.Minute
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	h := &Hydra{dir: dir, CAFile: filepath.Join(dir, "hydra-ca.crt")}
	if h.CA, err = NewCA("Example OAuth2 Server CA"); err != nil {
		return nil, err
	}
	leaf, err := h.CA.Issue("hydra", LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		return nil, err
	}
	certFile, keyFile := filepath.Join(dir, "hydra.crt"), filepath.Join(dir, "hydra.key")
	if err := leaf.WriteFiles(certFile, keyFile); err != nil {
		return nil, err
	}
	if err := os.WriteFile(h.CAFile, h.CA.CertPEM, 0o644); err != nil {
		return nil, err
	}
	public, err := freePort()
	if err != nil {
		return nil, err
	}
	admin, err := freePort()
	if err != nil {
		return nil, err
	}
	h.IssuerURL = fmt.Sprintf("https://127.0.0.1:%d", public)
	h.AdminURL = fmt.Sprintf("http://127.0.0.1:%d", admin)
	cfg := fmt.Sprintf(`dsn: memory
serve:
  public:
    host: 127.0.0.1
    port: %d
  admin:
    host: 127.0.0.1
    port: %d
    tls:
      enabled: false
  tls:
    enabled: true
    cert:
      path: %s
    key:
      path: %s
urls:
  self:
    issuer: %s
strategies:
  access_token: jwt
ttl:
  access_token: %s
secrets:
  system:
    - %s
log:
  level: info
  leak_sensitive_values: false
`, public, admin, certFile, keyFile, h.IssuerURL, tokenTTL, randomToken())
	cfgFile := filepath.Join(dir, "hydra.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if h.proc, err = startProcess(dir, "hydra", filepath.Join(toolsBin, "hydra"), "serve", "all", "--config", cfgFile, "--sqa-opt-out"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			h.Stop()
		}
	}()
	client := (&Stack{}).httpsClient(h.CA.CertPEM)
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = waitForDiscovery(ctx, h.proc, "hydra discovery", client, h.IssuerURL)
	return h, err
}

// CreateClient registers a confidential client through the admin API.
func (h *Hydra) CreateClient(ctx context.Context, c HydraClient) error {
	body, _ := json.Marshal(map[string]any{
		"client_id": c.ID, "client_secret": c.Secret, "grant_types": []string{"client_credentials"},
		"audience": c.Audience, "scope": c.Scope, "token_endpoint_auth_method": "client_secret_basic",
		"access_token_strategy": "jwt",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.AdminURL+"/admin/clients", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("hydra: create client %s: %s: %s", c.ID, resp.Status, b)
	}
	return nil
}

// Stop ends hydra by its pid.
func (h *Hydra) Stop() {
	if h.proc != nil {
		h.proc.stop(10 * time.Second)
	}
}
