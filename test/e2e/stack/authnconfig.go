package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The CI job the stack's kube-apiserver lets in: GitHub-shaped tokens from
// the CI issuer stand-in for this repository and branch, with the
// endpoint's URL as audience. RBAC gives CIUsername the readers' role.
const (
	CIRepository = "org/app"
	CIRef        = "refs/heads/main"
	CIRule       = `claims.repository == "` + CIRepository + `" && claims.ref == "` + CIRef + `"`
	CIUsername   = "ci:github:" + CIRepository + ":" + CIRef
	CIGroup      = "ci:github"
)

// writeAuthnConfig has the built plugin write kube-apiserver's
// AuthenticationConfiguration the way a platform owner would, with
// `kubectl securekapi expose authn-config`: Dex for people (email, groups
// with the oidc: prefix, Dex's CA), the CI stand-in as a GitHub issuer
// bound to the endpoint, and hydra (client credentials) as a generic one. kube-apiserver is not up yet, so the version is
// given (--api-version) instead of asked.
func (s *Stack) writeAuthnConfig(ctx context.Context) error {
	s.AuthnConfigFile = s.path("authn-config.yaml")
	args := []string{"expose", "authn-config",
		"--api-version", s.authnConfigVersion,
		"--kubeconfig", s.path("no-cluster-yet.kubeconfig"),
		"--service-account-issuer", ServiceAccountIssuer,
		"--oidc-issuer-url", s.IssuerURL, "--oidc-client-id", s.ClientID, "--oidc-ca-file", s.DexCAFile,
		"--oidc-username-claim", "email", "--oidc-groups-claim", "groups", "--oidc-groups-prefix", "oidc:",
		"--ci", "github=" + s.CI.URL, "--ci-ca-file", s.CI.CAFile, "--ci-audience", s.EndpointURL, "--ci-rule", CIRule}
	// hydra, for the client credentials grant, as a generic OIDC issuer.
	args = append(args, s.hydraAuthnArgs()...)
	out, err := s.RunPlugin(ctx, append(args, "-o", s.AuthnConfigFile)...)
	if err != nil {
		return fmt.Errorf("expose authn-config: %w\n%s", err, out)
	}
	return os.WriteFile(s.path("authn-config.log"), out, 0o600)
}

// RunPlugin runs the built plugin ($SECUREKAPI_BIN) with args and returns
// its stderr, for the platform-owner commands the stack is set up with.
func (s *Stack) RunPlugin(ctx context.Context, args ...string) ([]byte, error) {
	bin := os.Getenv("SECUREKAPI_BIN")
	if bin == "" {
		return nil, fmt.Errorf("set SECUREKAPI_BIN to the built kubectl-securekapi (make build): the stack is configured from its output")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stderr.Bytes(), fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return stderr.Bytes(), nil
}
