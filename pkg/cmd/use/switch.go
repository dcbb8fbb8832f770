package use

import (
	"errors"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/profile"
)

// previousStore remembers the previous context of the kubeconfig this use
// works on, next to the cluster registry.
func (o *UseOptions) previousStore() (*kubeconfig.PreviousContextStore, error) {
	files, err := o.KubeconfigStore().Files()
	if err != nil {
		return nil, err
	}
	return kubeconfig.PreviousContextFor(filepath.Dir(o.Registry.Path), files)
}

func (o *UseOptions) rememberPrevious(name string) error {
	store, err := o.previousStore()
	if err != nil {
		return err
	}
	return store.Set(name)
}

// switchBack makes the previous context current again, as `kubectx -` does.
func (o *UseOptions) switchBack() error {
	store, err := o.previousStore()
	if err != nil {
		return err
	}
	prev, err := store.Get()
	if err != nil {
		return fmt.Errorf("%w; `use NAME` records it again when it switches", err)
	}
	if prev == "" {
		return errors.New("no previous context recorded yet for this kubeconfig; `use NAME` records the one it switches away from")
	}
	if err := o.switchContext(prev, fmt.Sprintf("the previous context %q is no longer in the kubeconfig", prev)); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Switched to context %q.\n", prev)
	return nil
}

// switchToUnregistered makes a kubeconfig context that is not a registered
// cluster current, as `kubectl config use-context` would, and says that
// nothing was verified or pinned: only registered clusters are.
func (o *UseOptions) switchToUnregistered(name string, registered []string) error {
	addName := name
	if profile.CheckName(name) != nil {
		addName = "NAME" // add would refuse this one: suggest nothing it rejects
	}
	notFound := fmt.Sprintf("no cluster %q is registered and the kubeconfig has no such context; add it with `kubectl securekapi add %s --server ...` or `kubectl securekapi import PROFILE` (registered: %v)", name, addName, registered)
	if err := o.switchContext(name, notFound); err != nil {
		return err
	}
	verb := "Switched"
	if o.DryRun {
		verb = "Dry run: would switch"
	}
	fmt.Fprintf(o.ErrOut, "%s to kubeconfig context %q. It is not a registered securekapi cluster, so its endpoint was not verified and nothing was pinned; its kubeconfig entries are unchanged. To verify and pin it, register it: kubectl securekapi add %s --server ... (or import a profile), then use %s again.\n", verb, name, name, name)
	return nil
}

// switchContext makes an existing context current, changing nothing else,
// and remembers the one it leaves for `use -`; missing is the error when
// the kubeconfig has no such context.
func (o *UseOptions) switchContext(name, missing string) error {
	var from string
	if _, err := o.KubeconfigStore().Modify(func(cfg *clientcmdapi.Config) error {
		var err error
		if from, err = kubeconfig.SwitchContext(cfg, name); err != nil {
			return errors.New(missing)
		}
		return nil
	}, kubeconfig.ModifyOptions{DryRun: o.DryRun}); err != nil {
		return err
	}
	if !o.DryRun && from != "" && from != name {
		if err := o.rememberPrevious(from); err != nil {
			fmt.Fprintf(o.ErrOut, "warning: could not remember the previous context for `use -`: %v\n", err)
		}
	}
	return nil
}

// list prints the registered clusters.
func (o *UseOptions) list() error {
	reg, err := o.Registry.Load()
	if err != nil {
		return err
	}
	clusters := reg.Clusters
	if clusters == nil {
		clusters = []profile.Cluster{} // [] rather than null for scripts
	}
	if done, err := cmdutil.WriteStructured(o.Out, o.Output, clusters); done {
		return err
	}
	if len(reg.Clusters) == 0 {
		fmt.Fprintln(o.ErrOut, "No clusters registered. Add one with `kubectl securekapi add` or `kubectl securekapi import PROFILE`.")
		return nil
	}
	current := ""
	if cfg, err := o.KubeconfigStore().Load(); err == nil {
		current = cfg.CurrentContext
	}
	w := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CURRENT\tNAME\tSERVER\tISSUER")
	for _, c := range reg.Clusters {
		mark := ""
		if c.Name == current {
			mark = "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", mark, c.Name, c.Server, c.OIDC.IssuerURL)
	}
	return w.Flush()
}
