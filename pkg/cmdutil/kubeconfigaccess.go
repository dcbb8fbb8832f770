package cmdutil

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/kubeconfig"
)

// ExecCommand is the command `use` writes into exec stanzas. kubectl runs it
// straight from PATH (krew links it there), not through `kubectl securekapi`,
// which would add a kubectl start-up to every token request.
const ExecCommand = "kubectl-securekapi"

// CompleteAccessFromKubeconfig fills a's unset flags from the exec args of
// the named context's user (or the current context): kubeconfig written by
// `use` is self-contained, so login, logout and status need nothing else.
// store is the kubeconfig, context its --context.
func CompleteAccessFromKubeconfig(store *kubeconfig.Store, context string, fs *pflag.FlagSet, a *AccessFlags, name string) error {
	if a.Issuer != "" && name == "" {
		return nil
	}
	cfg, err := store.Load()
	if err != nil {
		return err
	}
	if name == "" {
		name = context
	}
	if name == "" {
		name = cfg.CurrentContext
	}
	if name == "" {
		return fmt.Errorf("no cluster named and no current context; pass a context name or the --oidc-* flags")
	}
	args, err := SecurekapiExecArgs(cfg, name)
	if err != nil {
		return err
	}
	if err := a.FillFromExecArgs(args, fs.Changed); err != nil {
		return fmt.Errorf("context %q: cannot read its securekapi exec args: %w; run `kubectl securekapi use %s` again", name, err, name)
	}
	if a.Cluster == "" {
		a.Cluster = name
	}
	return nil
}

// SecurekapiExecArgs returns the args after "credential" of the context's
// exec stanza, or an error saying the context is not securekapi's.
func SecurekapiExecArgs(cfg *clientcmdapi.Config, contextName string) ([]string, error) {
	ctx, ok := cfg.Contexts[contextName]
	if !ok {
		return nil, fmt.Errorf("context %q is not in the kubeconfig; `kubectl securekapi use` lists the registered clusters", contextName)
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok || user.Exec == nil {
		return nil, fmt.Errorf("context %q does not use securekapi (its user %q has no exec stanza); run `kubectl securekapi use %s`", contextName, ctx.AuthInfo, contextName)
	}
	if !strings.Contains(filepath.Base(user.Exec.Command), "securekapi") {
		return nil, fmt.Errorf("context %q's exec stanza runs %q, not securekapi; if the cluster is registered, `kubectl securekapi use %s` writes securekapi's", contextName, user.Exec.Command, contextName)
	}
	for i, arg := range user.Exec.Args {
		if arg == "credential" {
			return user.Exec.Args[i+1:], nil
		}
	}
	return nil, fmt.Errorf("context %q's securekapi exec stanza has no `credential` subcommand; run `kubectl securekapi use %s` to write it again", contextName, contextName)
}
