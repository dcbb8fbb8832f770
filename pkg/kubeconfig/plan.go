package kubeconfig

import (
	"errors"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd/api"
)

// plan places each difference between the merged config before and after
// mutate into one file, following clientcmd.ModifyConfig so that securekapi
// and `kubectl config` edit the same files:
//
//   - a new or changed cluster, user or context goes to the file its
//     LocationOfOrigin names, else to the default file;
//   - a deleted one is removed from the file that defined it;
//   - a new current-context goes to the default file; clearing it clears the
//     first file that sets it;
//   - changed preferences go to the first file whose preferences differ.
//
// The default file is kubectl's (PathOptions.GetDefaultFilename): the
// explicit file, else the first existing file of the list, else the last.
//
// Two deliberate differences: an entry that existed before is updated in the
// file that defined it even if mutate replaced its struct (ModifyConfig would
// add a duplicate to the default file), and top-level extensions, which
// ModifyConfig silently drops, are placed like entries.
type plan struct {
	files    []*fileState // precedence order
	explicit bool
}

func (p *plan) apply(start, want *api.Config) error {
	if err := p.currentContext(start.CurrentContext, want.CurrentContext); err != nil {
		return err
	}
	p.preferences(start.Preferences, want.Preferences)
	p.extensions(start.Extensions, want.Extensions)
	return errors.Join(
		placeEntries(p, "cluster", start.Clusters, want.Clusters, clustersOf, clusterOrigin),
		placeEntries(p, "context", start.Contexts, want.Contexts, contextsOf, contextOrigin),
		placeEntries(p, "user", start.AuthInfos, want.AuthInfos, usersOf, userOrigin),
	)
}

func (p *plan) defaultFile() *fileState {
	if p.explicit || len(p.files) == 1 {
		return p.files[0]
	}
	for _, f := range p.files {
		if f.exists {
			return f
		}
	}
	return p.files[len(p.files)-1]
}

// fileFor returns the file named by an entry's LocationOfOrigin, or the
// default file for an entry that has none (or names a file outside the list,
// which Modify has not locked).
func (p *plan) fileFor(origin string) *fileState {
	for _, f := range p.files {
		if f.path == origin {
			return f
		}
	}
	return p.defaultFile()
}

func (p *plan) currentContext(from, to string) error {
	if from == to {
		return nil
	}
	if p.explicit || to != "" {
		f := p.defaultFile()
		f.cfg.CurrentContext, f.dirty = to, true
		return nil
	}
	for _, f := range p.files {
		if f.cfg.CurrentContext != "" {
			f.cfg.CurrentContext, f.dirty = "", true
			return nil
		}
	}
	return errors.New("no kubeconfig file sets current-context, so there is none to clear")
}

func (p *plan) preferences(from, to api.Preferences) {
	if equality.Semantic.DeepEqual(from, to) {
		return
	}
	for _, f := range p.files {
		if p.explicit || !equality.Semantic.DeepEqual(f.cfg.Preferences, to) {
			f.cfg.Preferences, f.dirty = to, true
			return
		}
	}
}

// extensions places each changed top-level extension in the first file that
// has that key (the one whose value the merge shows), else the default file.
func (p *plan) extensions(from, to map[string]runtime.Object) {
	for key, v := range to {
		if old, ok := from[key]; !ok || !equality.Semantic.DeepEqual(old, v) {
			f := p.extensionFile(key)
			f.cfg.Extensions[key], f.dirty = v, true
		}
	}
	for key := range from {
		if _, ok := to[key]; !ok {
			f := p.extensionFile(key)
			delete(f.cfg.Extensions, key)
			f.dirty = true
		}
	}
}

func (p *plan) extensionFile(key string) *fileState {
	for _, f := range p.files {
		if _, ok := f.cfg.Extensions[key]; ok {
			return f
		}
	}
	return p.defaultFile()
}

// placeEntries places the differences in one of the three named maps.
func placeEntries[T any](p *plan, kind string, start, want map[string]*T,
	section func(*api.Config) map[string]*T, origin func(*T) string) error {
	for name, v := range want {
		if v == nil {
			return fmt.Errorf("%s %q is nil; delete it from the map instead", kind, name)
		}
		old, existed := start[name]
		if existed && semanticallyEqual(old, v) {
			continue
		}
		f := p.fileFor(origin(v))
		if existed {
			f = p.fileFor(origin(old))
		}
		section(f.cfg)[name], f.dirty = v, true
	}
	for name, old := range start {
		if _, ok := want[name]; !ok {
			f := p.fileFor(origin(old))
			delete(section(f.cfg), name)
			f.dirty = true
		}
	}
	return nil
}

// semanticallyEqual is equality.Semantic.DeepEqual (nil and empty maps and
// slices are equal), tried after the standard library's much cheaper
// reflect.DeepEqual, which settles the common case of an untouched entry: a
// 2,000-context kubeconfig compares every entry on every `use`.
func semanticallyEqual(a, b any) bool {
	return reflect.DeepEqual(a, b) || equality.Semantic.DeepEqual(a, b)
}

func clustersOf(c *api.Config) map[string]*api.Cluster { return c.Clusters }
func contextsOf(c *api.Config) map[string]*api.Context { return c.Contexts }
func usersOf(c *api.Config) map[string]*api.AuthInfo   { return c.AuthInfos }
func clusterOrigin(c *api.Cluster) string              { return c.LocationOfOrigin }
func contextOrigin(c *api.Context) string              { return c.LocationOfOrigin }
func userOrigin(c *api.AuthInfo) string                { return c.LocationOfOrigin }
