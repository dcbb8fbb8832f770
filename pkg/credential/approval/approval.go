// Package approval keeps the user's approvals: which clusters may receive
// the tokens of which login. Single sign-on shares one login among every
// cluster that names the same issuer and client; an approval is what keeps
// a cluster nobody approved (say, from a third party's profile that merely
// names our issuer and client) from collecting that login.
//
// An approval binds an identity (tokencache.Key.ID: issuer, client, scopes
// and extra parameters) to a Target (the normalized server URL and the set
// of CA pins the token binding holds kubectl to). Only a person grants one:
// `login NAME` on a terminal, or a confirmation at import, add or use.
//
// The approvals live in one JSON file in the user's securekapi cache dir,
// never in kubeconfig. This package is its only reader. It imports the
// standard library and pkg/atomicfile (which links flock) only: the exec credential path reads the file
// on every kubectl call.
package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

// FileName is the approvals file in the securekapi cache dir.
const FileName = "approvals.json"

// Version is the file format this package reads and writes.
const Version = 1

// Target is a cluster as the token binding names it: the server URL
// (normalized by the caller, credential.Binding.ApprovalTarget) and the set
// of sha256 SPKI pins of the CA kubectl must trust.
type Target struct {
	Server string
	Pins   []string
}

// NewTarget returns t with its pins sorted and deduplicated, so two targets
// naming the same pins in another order are equal.
func NewTarget(server string, pins []string) Target {
	p := slices.Clone(pins)
	slices.Sort(p)
	return Target{Server: server, Pins: slices.Compact(p)}
}

// Approval is one person's decision that Target may receive Identity's
// tokens.
type Approval struct {
	// Identity is tokencache.Key.ID() of the login.
	Identity string `json:"identity"`
	// Issuer and ClientID say what Identity is, for people (status).
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientID"`
	// Cluster is the name it was approved under, for people and for
	// `logout NAME`.
	Cluster string `json:"cluster"`
	// Server and Pins are the Target.
	Server string   `json:"server"`
	Pins   []string `json:"pins"`
	// ApprovedAt and Via (login, import, add or use) say when and how.
	ApprovedAt time.Time `json:"approvedAt"`
	Via        string    `json:"via"`
}

// Target is the cluster the approval names.
func (a Approval) Target() Target { return NewTarget(a.Server, a.Pins) }

// Matches reports whether a is for identity and exactly target: the same
// server and the same pin set. More pins mean more CAs kubectl would trust,
// fewer or none mean a looser check, so either is a new decision to make.
func (a Approval) Matches(identity string, target Target) bool {
	mine := a.Target()
	target = NewTarget(target.Server, target.Pins)
	return a.Identity == identity && mine.Server == target.Server && slices.Equal(mine.Pins, target.Pins)
}

// File is the approvals file.
type File struct {
	Version   int        `json:"version"`
	Approvals []Approval `json:"approvals"`
}

// Allows reports whether a person approved target for identity.
func (f *File) Allows(identity string, target Target) bool {
	return slices.ContainsFunc(f.Approvals, func(a Approval) bool { return a.Matches(identity, target) })
}

// Approve records a; an approval of the same identity and target is
// replaced (its name and time updated). It reports whether a is new.
func (f *File) Approve(a Approval) bool {
	t := a.Target()
	a.Server, a.Pins = t.Server, t.Pins
	for i := range f.Approvals {
		if f.Approvals[i].Matches(a.Identity, t) {
			f.Approvals[i] = a
			return false
		}
	}
	f.Approvals = append(f.Approvals, a)
	return true
}

// Forget removes the approvals match selects and returns them.
func (f *File) Forget(match func(Approval) bool) []Approval {
	var gone []Approval
	kept := f.Approvals[:0]
	for _, a := range f.Approvals {
		if match(a) {
			gone = append(gone, a)
		} else {
			kept = append(kept, a)
		}
	}
	f.Approvals = kept
	return gone
}

// Store is the approvals file at Path.
type Store struct {
	Path string
}

// PathIn is the approvals file in the securekapi cache dir.
func PathIn(cacheDir string) string { return filepath.Join(cacheDir, FileName) }

// Load reads the file: one small read. A missing file approves nothing; an
// unreadable or unknown one is an error naming the way out, never read as
// "nothing approved" silently nor as "everything approved".
func (s *Store) Load() (*File, error) {
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return s.decode(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("read the approvals file: %w", err)
	}
	return s.decode(data)
}

// decode reads the file's content; nil is a missing file, which approves
// nothing.
func (s *Store) decode(data []byte) (*File, error) {
	if data == nil {
		return &File{Version: Version}, nil
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("approvals file %s is damaged (%v); remove it and approve your clusters again with `kubectl securekapi login NAME`", s.Path, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("approvals file %s has format version %d, this securekapi reads %d; upgrade securekapi, or remove the file and approve again with `kubectl securekapi login NAME`", s.Path, f.Version, Version)
	}
	return &f, nil
}

// Update loads, changes and atomically rewrites the file (mode 0600) under
// a lock, so two commands approving at once both land.
func (s *Store) Update(change func(*File) error) error {
	return atomicfile.Update(s.Path, 0o600, func(old []byte) ([]byte, error) {
		f, err := s.decode(old)
		if err != nil {
			return nil, err
		}
		if err := change(f); err != nil {
			return nil, err
		}
		f.Version = Version
		if f.Approvals == nil {
			f.Approvals = []Approval{}
		}
		data, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(data, '\n'), nil
	})
}
