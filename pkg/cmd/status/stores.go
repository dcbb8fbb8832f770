package status

import (
	"fmt"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// storesOfContexts opens each context's token store and approvals the way
// its credential call does: from its exec stanza's --token-cache and
// --cache-dir (a CI grant's tokens are always in the file store), unless
// status's own flags name a store. Each store is opened once.
func (o *StatusOptions) storesOfContexts() func(a *cmdutil.AccessFlags) (tokenstore.Store, *binding.ApprovalsFile, error) {
	type opened struct {
		store     tokenstore.Store
		approvals *binding.ApprovalsFile
		err       error
	}
	cache := map[string]opened{}
	return func(a *cmdutil.AccessFlags) (tokenstore.Store, *binding.ApprovalsFile, error) {
		if o.Access.TokenCache != "" {
			a.TokenCache = o.Access.TokenCache
		}
		if o.Access.CacheDir != "" {
			a.CacheDir = o.Access.CacheDir
		}
		key := fmt.Sprintf("%q %q %v", a.TokenCache, a.CacheDir, a.MachineGrant())
		if c, ok := cache[key]; ok {
			return c.store, c.approvals, c.err
		}
		var c opened
		c.store, _, c.err = o.OpenTokenStore(a)
		if c.err == nil {
			c.approvals, c.err = o.approvals(a)
		}
		cache[key] = c
		return c.store, c.approvals, c.err
	}
}
