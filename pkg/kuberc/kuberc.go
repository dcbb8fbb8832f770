// Package kuberc reads kubectl's kuberc (kubectl.config.k8s.io/v1beta1
// Preference, kubectl >= 1.35) the way kubectl reads it, to answer one
// question: will kubectl run the credential plugin an exec stanza names? And
// it adds the plugin to kuberc's credential-plugin allowlist when the user
// asks, keeping everything else in the file.
//
// The rules are kubectl 1.37's (k8s.io/kubectl pkg/kuberc and client-go's
// plugin/pkg/client/auth/exec):
//   - the file is $KUBERC, or $HOME/.kube/kuberc; KUBERC=off, or the feature
//     gate KUBECTL_KUBERC=false, turns kuberc off;
//   - the first YAML document that is a kubectl.config.k8s.io Preference is
//     the one used;
//   - policy "" and AllowAll run every plugin, DenyAll none, Allowlist those
//     whose entry's command resolves (exec.LookPath, on both sides) to the
//     path the stanza's command resolves to; `name` is the deprecated
//     spelling of `command`.
//
// (kubectl's own --kuberc flag is per call, so nothing here can see it.)
package kuberc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"sigs.k8s.io/yaml"
)

// The kuberc policies (credentialPluginPolicy).
const (
	PolicyAllowAll  = "AllowAll"
	PolicyDenyAll   = "DenyAll"
	PolicyAllowlist = "Allowlist"
)

const (
	group      = "kubectl.config.k8s.io"
	apiVersion = group + "/v1beta1"
	kind       = "Preference"
)

// Location is where kubectl looks for kuberc.
type Location struct {
	Path string
	// Off: KUBERC=off or KUBECTL_KUBERC=false; kubectl reads no kuberc.
	Off bool
	// Explicit: named by KUBERC. kubectl then fails every command when the
	// file is missing or unreadable, instead of ignoring it.
	Explicit bool
}

// Locate resolves kuberc as kubectl does when --kuberc is not given.
func Locate(getenv func(string) string) Location {
	if getenv("KUBERC") == "off" || strings.EqualFold(getenv("KUBECTL_KUBERC"), "false") {
		return Location{Off: true}
	}
	if p := getenv("KUBERC"); p != "" {
		return Location{Path: p, Explicit: true}
	}
	// client-go's homedir.HomeDir: $HOME as it is on unix (even empty);
	// Windows weighs HOME, HOMEDRIVE/HOMEPATH and USERPROFILE, which
	// os.UserHomeDir approximates.
	home := getenv("HOME")
	if runtime.GOOS == "windows" {
		home, _ = os.UserHomeDir()
	}
	return Location{Path: filepath.Join(home, ".kube", "kuberc")}
}

// Entry is one credentialPluginAllowlist entry.
type Entry struct {
	Name    string `json:"name,omitempty"` // deprecated spelling of Command
	Command string `json:"command,omitempty"`
}

// command is the entry's command, as kubectl's conversion makes it.
func (e Entry) command() string {
	if e.Command != "" {
		return e.Command
	}
	return e.Name
}

// Preference is the part of the kuberc document this package reads.
type Preference struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Policy     string  `json:"credentialPluginPolicy"`
	Allowlist  []Entry `json:"credentialPluginAllowlist"`
	// HasAllowlist: the key is present (kubectl tells a missing list from
	// an empty one).
	HasAllowlist bool `json:"-"`
}

// File is a kuberc as kubectl reads it.
type File struct {
	Location
	// Exists is false when there is no file (or kuberc is off).
	Exists bool
	// Pref is the Preference kubectl uses; nil when there is none.
	Pref *Preference
}

// Read reads the kuberc at loc. A missing file is no error (File.Exists
// false); an unreadable one is, and so is a file with documents but no
// Preference kubectl can use.
func Read(loc Location) (*File, error) {
	f := &File{Location: loc}
	if loc.Off {
		return f, nil
	}
	data, err := os.ReadFile(loc.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read kuberc %s: %w", loc.Path, err)
	}
	f.Exists = true
	f.Pref, err = parse(data)
	if err != nil {
		return nil, fmt.Errorf("kuberc %s: %w", loc.Path, err)
	}
	return f, nil
}

// parse returns the first Preference document, as kubectl picks it; nil
// when the file holds no document at all.
func parse(data []byte) (*Preference, error) {
	docs := splitDocuments(data)
	tried := 0
	for _, doc := range docs {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		tried++
		var p Preference
		if err := yaml.Unmarshal(doc, &p); err != nil {
			continue
		}
		if gv, _, _ := strings.Cut(p.APIVersion, "/"); gv != group || p.Kind != kind {
			continue
		}
		var keys map[string]any
		_ = yaml.Unmarshal(doc, &keys)
		_, p.HasAllowlist = keys["credentialPluginAllowlist"]
		return &p, nil
	}
	if tried > 0 {
		return nil, fmt.Errorf("no %s %s document in it (kubectl ignores it, or fails when KUBERC names it)", group, kind)
	}
	return nil, nil
}

// splitDocuments splits YAML at its "---" separator lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// Verdict is whether kubectl will run a stanza's command, and why.
type Verdict struct {
	Allowed bool
	// Policy is the effective policy: "" when kuberc is off, missing or
	// sets none.
	Policy string
	// Reason says why, naming the file.
	Reason string
}

// Allows is whether kubectl will run command (an exec stanza's `command`)
// under f. lookPath is exec.LookPath (tests pass their own).
func (f *File) Allows(command string, lookPath func(string) (string, error)) Verdict {
	switch {
	case f.Off:
		return Verdict{Allowed: true, Reason: "kuberc is off (KUBERC=off or KUBECTL_KUBERC=false): kubectl runs every credential plugin"}
	case !f.Exists:
		return Verdict{Allowed: true, Reason: fmt.Sprintf("no kuberc at %s: kubectl runs every credential plugin", f.Path)}
	case f.Pref == nil:
		return Verdict{Allowed: true, Reason: fmt.Sprintf("%s is empty: kubectl runs every credential plugin", f.Path)}
	}
	p := f.Pref
	if p.Policy != PolicyAllowlist && p.HasAllowlist {
		return Verdict{Policy: p.Policy, Reason: fmt.Sprintf("%s lists a credentialPluginAllowlist under policy %q, which kubectl refuses as misconfigured", f.Path, p.Policy)}
	}
	switch p.Policy {
	case "", PolicyAllowAll:
		return Verdict{Allowed: true, Policy: p.Policy, Reason: fmt.Sprintf("%s sets no credential-plugin allowlist: kubectl runs every credential plugin", f.Path)}
	case PolicyDenyAll:
		return Verdict{Policy: p.Policy, Reason: fmt.Sprintf("%s denies every credential plugin (credentialPluginPolicy: DenyAll)", f.Path)}
	case PolicyAllowlist:
	default:
		return Verdict{Policy: p.Policy, Reason: fmt.Sprintf("%s has credentialPluginPolicy %q, which kubectl does not know, so it runs no credential plugin", f.Path, p.Policy)}
	}
	if err := validateAllowlist(p); err != nil {
		return Verdict{Policy: p.Policy, Reason: fmt.Sprintf("%s: %v, so kubectl runs no credential plugin", f.Path, err)}
	}
	if f.listed(command, lookPath) {
		return Verdict{Allowed: true, Policy: p.Policy, Reason: fmt.Sprintf("%s allowlists %s", f.Path, command)}
	}
	return Verdict{Policy: p.Policy, Reason: fmt.Sprintf("%s's credentialPluginAllowlist does not name %s", f.Path, command)}
}

// listed mirrors client-go's checkAllowlistLocked: a verbatim match of the
// stanza's command or its resolved path, else both sides resolved with
// LookPath and compared.
func (f *File) listed(command string, lookPath func(string) (string, error)) bool {
	command = filepath.Clean(command)
	resolved, err := lookPath(command)
	for _, e := range f.Pref.Allowlist {
		if c := e.command(); c == command || (err == nil && c == resolved) {
			return true
		}
	}
	if err != nil {
		return false // kubectl cannot resolve the plugin: it refuses
	}
	for _, e := range f.Pref.Allowlist {
		if p, err := lookPath(e.command()); err == nil && p == resolved {
			return true
		}
	}
	return false
}

// validateAllowlist is client-go's validateAllowlist plus kubectl's
// name/command conversion.
func validateAllowlist(p *Preference) error {
	if !p.HasAllowlist || p.Allowlist == nil {
		return errors.New("policy Allowlist but no credentialPluginAllowlist")
	}
	if len(p.Allowlist) == 0 {
		return errors.New("policy Allowlist with an empty credentialPluginAllowlist")
	}
	for i, e := range p.Allowlist {
		if e.Name != "" && e.Command != "" && e.Name != e.Command {
			return fmt.Errorf("allowlist entry #%d has both name and command", i+1)
		}
		c := e.command()
		if c == "" {
			return fmt.Errorf("allowlist entry #%d is empty", i+1)
		}
		if filepath.Clean(c) != c {
			return fmt.Errorf("allowlist entry #%d, %q, is not a normalized path", i+1, c)
		}
	}
	return nil
}

// Describe writes the lines a person confirms before an edit.
func Describe(w io.Writer, f *File, change *Change) {
	fmt.Fprintf(w, "kubectl reads credential-plugin rules from %s (kuberc).\n", f.Path)
	for _, line := range change.Lines {
		fmt.Fprintf(w, "  %s\n", line)
	}
}

func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kuberc %s: %w", path, err)
	}
	return data, nil
}
