package kubeconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

// Change is one file that Modify wrote (or, with DryRun, would write).
type Change struct {
	File          string
	Before, After []byte // Before is nil for a new file
	Created       bool
}

// ModifyOptions changes how Modify runs.
type ModifyOptions struct {
	// DryRun computes the changes without locking or writing anything.
	DryRun bool
}

// Modify hands the merged config to mutate and writes the result back to the
// files, with the placement rules of clientcmd.ModifyConfig (see plan.go).
// Files whose content does not change are not written.
//
// It holds kubectl's lock ("<file>.lock", see lock.go) on every file in the
// precedence list from before reading until after writing. A dry run takes no
// lock, so it never creates anything on disk. Each file is replaced
// atomically; when several change, a failure part-way names the files
// already written.
func (s *Store) Modify(mutate func(cfg *api.Config) error, opts ModifyOptions) (changes []Change, err error) {
	files, err := s.Files()
	if err != nil {
		return nil, err
	}
	if !opts.DryRun {
		unlock, err := s.lockAll(files)
		if err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, unlock()) }()
	}
	snap, err := readFiles(files)
	if err != nil {
		return nil, err
	}
	if changes, err = snap.apply(mutate, s.ExplicitPath != ""); err != nil || opts.DryRun {
		return changes, err
	}
	return changes, whileWriting(func() error { return write(changes) })
}

// apply runs mutate on a copy of the merged config and returns the per-file
// changes it implies.
func (snap *snapshot) apply(mutate func(cfg *api.Config) error, explicit bool) ([]Change, error) {
	start, err := snap.merged()
	if err != nil {
		return nil, err
	}
	want := start.DeepCopy()
	if err := mutate(want); err != nil {
		return nil, err
	}
	for _, f := range snap.files {
		f.orig = f.cfg.DeepCopy()
	}
	if err := (&plan{files: snap.files, explicit: explicit}).apply(start, want); err != nil {
		return nil, err
	}
	return snap.changes()
}

// changes serializes every edited file and keeps those whose content differs.
// Comparing serialized forms, not the edits, skips a file that was "changed"
// back to what it already held.
func (snap *snapshot) changes() ([]Change, error) {
	var out []Change
	for _, f := range snap.files {
		if !f.dirty {
			continue
		}
		after, err := clientcmd.Write(*f.cfg)
		if err != nil {
			return nil, fmt.Errorf("serialize kubeconfig %s: %w", f.path, err)
		}
		if sameContent(f, after) {
			continue
		}
		out = append(out, Change{File: f.path, Before: f.before, After: after, Created: !f.exists})
	}
	return out, nil
}

// sameContent reports whether after holds what the file held, so a file
// "changed" back to what it held is not rewritten. A file kubectl or
// securekapi wrote is in clientcmd's canonical form, so its bytes settle it;
// a hand-written one is compared as parsed config, which costs a fraction
// of serializing the original again.
func sameContent(f *fileState, after []byte) bool {
	if bytes.Equal(after, f.before) {
		return true
	}
	if f.orig.CurrentContext != f.cfg.CurrentContext || len(f.orig.Clusters) != len(f.cfg.Clusters) ||
		len(f.orig.AuthInfos) != len(f.cfg.AuthInfos) || len(f.orig.Contexts) != len(f.cfg.Contexts) {
		return false // what `use` and `use -` change: no need to walk the rest
	}
	// Entries the plan placed carry the merge's LocationOfOrigin; the
	// parsed original has none. It is never written, so drop it here.
	setOrigin(f.cfg, "")
	return semanticallyEqual(f.orig, f.cfg)
}

// write writes every change, after checking that no file changed since it
// was read (an editor or tool that ignores kubectl's lock) and none is
// read-only.
func write(changes []Change) error {
	for _, ch := range changes {
		if err := unchangedSinceRead(ch); err != nil {
			return err
		}
		if err := refuseReadOnly(ch.File); err != nil {
			return err
		}
	}
	for i, ch := range changes {
		if err := atomicfile.Write(ch.File, ch.After, 0o600); err != nil {
			return fmt.Errorf("%w%s", err, alreadyWritten(changes[:i]))
		}
	}
	return nil
}

func unchangedSinceRead(ch Change) error {
	now, err := os.ReadFile(ch.File)
	if errors.Is(err, fs.ErrNotExist) && ch.Created {
		return nil
	}
	if err == nil && !ch.Created && bytes.Equal(now, ch.Before) {
		return nil
	}
	return fmt.Errorf("kubeconfig %s changed while securekapi was updating it (something wrote it without taking %s.lock); nothing was written, run the command again", ch.File, ch.File)
}

func alreadyWritten(done []Change) string {
	if len(done) == 0 {
		return "; no kubeconfig file was changed"
	}
	names := make([]string, len(done))
	for i, ch := range done {
		names[i] = ch.File
	}
	return "; already updated: " + strings.Join(names, ", ") + " (check them, then run the command again)"
}
