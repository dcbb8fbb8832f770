package use

import (
	"context"
	"errors"
	"fmt"

	"github.com/securekapi/securekapi/pkg/picker"
)

// listOrPick is `use` with no name: at a terminal (stdin, stdout and
// stderr all one) and with no -o, a picker to switch with; otherwise the
// list, so scripts and pipes see what they always did.
func (o *UseOptions) listOrPick(ctx context.Context) error {
	if o.Output != "" || !o.StdinIsTTY || !o.StdoutIsTTY || !o.StderrIsTTY {
		return o.list()
	}
	reg, err := o.Registry.Load()
	if err != nil {
		return err
	}
	if len(reg.Clusters) == 0 {
		return o.list() // says how to register one
	}
	current := ""
	if cfg, err := o.KubeconfigStore().Load(); err == nil {
		current = cfg.CurrentContext
	}
	items := make([]picker.Item, len(reg.Clusters))
	for i, c := range reg.Clusters {
		items[i] = picker.Item{Name: c.Name, Detail: c.Server}
	}
	// The picker draws on stderr: stdout carries data only.
	name, err := picker.Pick(ctx, picker.Options{Title: "Switch to cluster", Items: items, Current: current, In: o.In, Out: o.ErrOut})
	if errors.Is(err, picker.ErrCanceled) {
		return errors.New("no cluster chosen; kubeconfig was not changed (`kubectl securekapi use NAME` switches directly)")
	}
	if err != nil {
		return fmt.Errorf("%w; `kubectl securekapi use NAME` switches without it", err)
	}
	o.Name = name
	return o.Run(ctx)
}
