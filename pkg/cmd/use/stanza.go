package use

import (
	"fmt"
	"slices"
	"strings"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

// execConfig is the exec stanza: kubectl runs the plugin with every setting
// it needs as args (self-contained), tells it the server and CA it is using
// (provideClusterInfo), and lets it prompt only when a person is there.
func (o *UseOptions) execConfig(c *profile.Cluster, v *trust.Verified) *clientcmdapi.ExecConfig {
	a := cmdutil.AccessFor(c, cmdutil.ExecPins(c, v)).Flags
	a.TokenCache = o.Exec.TokenCache
	interactive := clientcmdapi.IfAvailableExecInteractiveMode
	if o.CI.enabled() {
		a.Issuer, a.ClientID = o.CI.client(c)
		// The cluster's scopes and parameters are its issuer's: a CI grant
		// at another issuer (the CI's own, a client credentials server)
		// takes none.
		if !o.CI.usesClusterIssuer(c) {
			a.ExtraScopes, a.ExtraParams = nil, nil
		}
		a.OIDCCAFile = o.CI.caFile(c)
		a.Grant, a.Machine = o.CI.grantName(), o.CI.machine()
		if a.Grant != grant.Auto { // auto is also a person's login
			interactive = clientcmdapi.NeverExecInteractiveMode // no person: kubectl never hands it a terminal
		}
	}
	// access.Flags.ExecArgs writes them with the flags the credential
	// path parses them with, so the two cannot disagree.
	args := append([]string{"credential"}, a.ExecArgs()...)
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
