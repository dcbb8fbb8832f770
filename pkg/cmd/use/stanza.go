package use

import (
	"fmt"
	"slices"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

// execConfig is the exec stanza: kubectl runs the plugin with every setting
// it needs as args (self-contained), tells it the server and CA it is using
// (provideClusterInfo), and lets it prompt only when a person is there.
func (o *UseOptions) execConfig(c *profile.Cluster, v *trust.Verified) *clientcmdapi.ExecConfig {
	issuer, clientID := c.OIDC.IssuerURL, c.OIDC.ClientID
	if o.CI.enabled() {
		issuer, clientID = o.CI.client(c)
	}
	args := []string{"credential", "--cluster-name", c.Name,
		"--oidc-issuer-url", issuer, "--oidc-client-id", clientID,
		"--server", c.Server,
		"--tls-server-name", trust.Endpoint{URL: c.Server, TLSServerName: c.TLSServerName}.ServerName()}
	for _, p := range cmdutil.ExecPins(c, v) {
		args = append(args, "--pin", p)
	}
	// The cluster's scopes and parameters are its issuer's: a CI grant at
	// another issuer (the CI's own, a client credentials server) takes none.
	if !o.CI.enabled() || o.CI.usesClusterIssuer(c) {
		for _, s := range c.OIDC.ExtraScopes {
			args = append(args, "--oidc-extra-scope", s)
		}
		for k, val := range c.OIDC.ExtraParams {
			args = append(args, "--oidc-auth-request-extra-params", k+"="+val)
		}
	}
	caFile := c.OIDC.CAFile
	if o.CI.enabled() {
		caFile = o.CI.caFile(c)
	}
	if caFile != "" {
		args = append(args, "--oidc-ca-file", caFile)
	}
	if o.TokenCache != "" {
		args = append(args, "--token-cache", o.TokenCache)
	}
	interactive := clientcmdapi.IfAvailableExecInteractiveMode
	if o.CI.enabled() {
		args = append(args, o.CI.execArgs()...)
		if o.CI.grant() != access.GrantAuto { // auto is also a person's login
			interactive = clientcmdapi.NeverExecInteractiveMode // no person: kubectl never hands it a terminal
		}
	}
	return &clientcmdapi.ExecConfig{
		APIVersion:         "client.authentication.k8s.io/v1",
		Command:            o.ExecCommand,
		Args:               args,
		InteractiveMode:    interactive,
		ProvideClusterInfo: true,
		InstallHint: `securekapi provides tokens for this cluster. Install it with krew:
  kubectl krew install securekapi
or download kubectl-securekapi from the project's releases and put it on your PATH.`,
	}
}

func userName(cluster string) string { return "securekapi-" + cluster }

// chainChangeNote says why the CA chain kubeconfig trusts for a cluster
// changes. Only a new chain behind the same server under the same pins is a
// CA rotation; new pins or a new server mean the registration itself was
// replaced (`import --replace`, `add`), and calling that a rotation would
// dress a change of trust up as routine.
func chainChangeNote(name, oldServer string, oldPins []string, newServer string, newPins []string) string {
	if oldServer == newServer && len(oldPins) > 0 && slices.Equal(sorted(oldPins), sorted(newPins)) {
		return "the endpoint's CA chain changed since the last use and still matches the pins (a CA rotation); kubeconfig now trusts the new chain"
	}
	var what []string
	if oldServer != newServer {
		what = append(what, fmt.Sprintf("server %s -> %s", oldServer, newServer))
	}
	if !slices.Equal(sorted(oldPins), sorted(newPins)) {
		what = append(what, fmt.Sprintf("pins %s -> %s", cmdutil.OrDash(strings.Join(oldPins, ", ")), strings.Join(newPins, ", ")))
	}
	return fmt.Sprintf("%s's registered trust settings changed since the last use (%s), so this is not a CA rotation; kubeconfig now trusts only the chain verified against the new settings",
		name, strings.Join(what, "; "))
}

// pinsOfContext reads the --pin values kubeconfig's securekapi exec stanza
// for the context holds, or nil when it has none readable.
func pinsOfContext(cfg *clientcmdapi.Config, contextName string) []string {
	args, err := cmdutil.SecurekapiExecArgs(cfg, contextName)
	if err != nil {
		return nil
	}
	return pinsInExecArgs(args)
}

// pinsInExecArgs parses exec args with the credential command's own flags.
func pinsInExecArgs(args []string) []string {
	if len(args) > 0 && args[0] == "credential" {
		args = args[1:]
	}
	a := &cmdutil.AccessFlags{}
	if _, err := a.ParseExecArgs(args); err != nil {
		return nil
	}
	return a.Pins
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
