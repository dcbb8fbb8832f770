// The approvals: which clusters may receive the tokens of which login.
// Single sign-on shares one login among every cluster that names the same
// issuer and client; an approval is what keeps a cluster nobody approved
// (say, from a third party's profile that merely names our issuer and
// client) from collecting that login.
//
// An approval binds an identity (tokenstore.Key.ID: issuer, client, scopes,
// extra parameters and, for a CI job, the grant) to a Target: everything
// that decides where its tokens and refresh tokens go (the normalized server
// URL, the name kubectl verifies, the set of CA pins the token binding holds
// kubectl to, and how the issuer's TLS is trusted). Only a person grants one:
// `login NAME` on a terminal, or a confirmation at import, add or use.
//
// The approvals live in one JSON file in the user's securekapi cache dir,
// never in kubeconfig. This file is its only reader and writer.

package binding

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/atomicfile"
	"github.com/securekapi/securekapi/pkg/userfile"
)

// ApprovalsFileName is the approvals file in the securekapi cache dir.
const ApprovalsFileName = "approvals.json"

// ApprovalsVersion is the file format this package reads and writes.
const ApprovalsVersion = 1

// Target is a cluster as the token binding names it, with the issuer's
// trust: the server URL (normalized by the caller, Binding.ApprovalTarget),
// the name kubectl verifies the server's certificate for, the set of sha256
// SPKI pins of the CA kubectl must trust, and how the issuer's TLS is
// trusted (where a refresh token goes). A change to any of them is a new
// decision for a person.
type Target struct {
	Server string
	// ServerName is the name kubectl verifies (tls-server-name, else the
	// URL host), lowercased; "" is the URL host.
	ServerName string
	Pins       []string
	// IssuerTrust is how the issuer's TLS is verified: SystemRoots, or
	// "ca sha256:<hex>" of the OIDC CA bundle's bytes; "" is SystemRoots.
	IssuerTrust string
}

// SystemRoots is the IssuerTrust of an issuer verified against the
// operating system's roots.
const SystemRoots = "system roots"

// NewTarget is the target of server and pins, its TLS name the URL host
// and its issuer trusted by the system roots.
func NewTarget(server string, pins []string) Target {
	return Target{Server: server, Pins: pins}.Normal()
}

// Normal returns t with its pins sorted and deduplicated, its name
// lowercased (the URL host when empty) and its issuer trust spelled out,
// so two targets that decide the same are equal. Approvals recorded before
// the name and the issuer trust were (2026-12-07) read as the defaults: a
// cluster with its own tls-server-name or a private OIDC CA is asked again
// once.
func (t Target) Normal() Target {
	p := slices.Clone(t.Pins)
	slices.Sort(p)
	t.Pins = slices.Compact(p)
	if t.ServerName == "" {
		t.ServerName = hostOf(t.Server)
	}
	t.ServerName = strings.ToLower(t.ServerName)
	if t.IssuerTrust == "" {
		t.IssuerTrust = SystemRoots
	}
	return t
}

// Equal reports whether t and o decide the same.
func (t Target) Equal(o Target) bool {
	t, o = t.Normal(), o.Normal()
	return t.Server == o.Server && t.ServerName == o.ServerName && t.IssuerTrust == o.IssuerTrust && slices.Equal(t.Pins, o.Pins)
}

// hostOf is the host of a normalized server URL, without brackets.
func hostOf(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Approval is one person's decision that Target may receive Identity's
// tokens.
type Approval struct {
	// Identity is tokenstore.Key.ID() of the login.
	Identity string `json:"identity"`
	// Issuer and ClientID say what Identity is, for people (status).
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientID"`
	// Cluster is the name it was approved under, for people and for
	// `logout NAME`.
	Cluster string `json:"cluster"`
	// Server, ServerName, Pins and IssuerTrust are the Target.
	Server      string   `json:"server"`
	ServerName  string   `json:"serverName,omitempty"`
	Pins        []string `json:"pins"`
	IssuerTrust string   `json:"issuerTrust,omitempty"`
	// ApprovedAt and Via (login, import, add or use) say when and how.
	ApprovedAt time.Time `json:"approvedAt"`
	Via        string    `json:"via"`
}

// Target is the cluster the approval names.
func (a Approval) Target() Target {
	return Target{Server: a.Server, ServerName: a.ServerName, Pins: a.Pins, IssuerTrust: a.IssuerTrust}.Normal()
}

// ApprovalFor is the approval of target for identity, with its fields filled in.
func ApprovalFor(identity string, target Target) Approval {
	t := target.Normal()
	return Approval{Identity: identity, Server: t.Server, ServerName: t.ServerName, Pins: t.Pins, IssuerTrust: t.IssuerTrust}
}

// Matches reports whether a is for identity and exactly target: the same
// server, TLS name, pin set and issuer trust. More pins mean more CAs
// kubectl would trust, fewer or none mean a looser check, another name
// another certificate the pinned CA may have issued, another issuer trust
// another place a refresh token may go: each is a new decision to make.
func (a Approval) Matches(identity string, target Target) bool {
	return a.Identity == identity && a.Target().Equal(target)
}

// ApprovalsFile is the approvals file.
type ApprovalsFile struct {
	Version   int        `json:"version"`
	Approvals []Approval `json:"approvals"`
}

// Allows reports whether a person approved target for identity.
func (f *ApprovalsFile) Allows(identity string, target Target) bool {
	return slices.ContainsFunc(f.Approvals, func(a Approval) bool { return a.Matches(identity, target) })
}

// Approve records a; an approval of the same identity and target is
// replaced (its name and time updated). It reports whether a is new.
func (f *ApprovalsFile) Approve(a Approval) bool {
	t := a.Target()
	a.Server, a.ServerName, a.Pins, a.IssuerTrust = t.Server, t.ServerName, t.Pins, t.IssuerTrust
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
func (f *ApprovalsFile) Forget(match func(Approval) bool) []Approval {
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

// ApprovalStore is the approvals file at Path.
type ApprovalStore struct {
	Path string
}

// ApprovalsPathIn is the approvals file in the securekapi cache dir.
func ApprovalsPathIn(cacheDir string) string { return filepath.Join(cacheDir, ApprovalsFileName) }

// Load reads the file: one small read. A missing file approves nothing; an
// unreadable or unknown one is an error naming the way out, never read as
// "nothing approved" silently nor as "everything approved".
func (s *ApprovalStore) Load() (*ApprovalsFile, error) {
	data, err := userfile.ReadPrivateFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return s.decode(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("read the approvals file: %w; securekapi reads approvals only from a file of your own that no one else can read or write", err)
	}
	return s.decode(data)
}

// decode reads the file's content; nil is a missing file, which approves
// nothing.
func (s *ApprovalStore) decode(data []byte) (*ApprovalsFile, error) {
	if data == nil {
		return &ApprovalsFile{Version: ApprovalsVersion}, nil
	}
	var f ApprovalsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("approvals file %s is damaged (%v); remove it and approve your clusters again with `kubectl securekapi login NAME`", s.Path, err)
	}
	if f.Version != ApprovalsVersion {
		return nil, fmt.Errorf("approvals file %s has format version %d, this securekapi reads %d; upgrade securekapi, or remove the file and approve again with `kubectl securekapi login NAME`", s.Path, f.Version, ApprovalsVersion)
	}
	return &f, nil
}

// Update loads, changes and atomically rewrites the file (mode 0600) under
// a lock, so two commands approving at once both land.
func (s *ApprovalStore) Update(change func(*ApprovalsFile) error) error {
	return atomicfile.Update(s.Path, 0o600, func(old []byte) ([]byte, error) {
		f, err := s.decode(old)
		if err != nil {
			return nil, err
		}
		if err := change(f); err != nil {
			return nil, err
		}
		f.Version = ApprovalsVersion
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
