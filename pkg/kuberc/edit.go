package kuberc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

// Change is an edit of kuberc that lets kubectl run a command: the lines a
// person is shown, and the new content.
type Change struct {
	Lines   []string
	content []byte
}

// Allow plans the edit that lets kubectl run command, keeping every other
// document, key and comment of the file:
//   - under an Allowlist, command is added to it;
//   - under DenyAll, the policy becomes an Allowlist of command alone
//     (every other plugin stays refused);
//   - with no policy (or AllowAll, or no kuberc), the policy becomes an
//     Allowlist of command and of keep, the other plugins the user's
//     kubeconfig runs, so turning the allowlist on breaks none of them.
//
// It fails, changing nothing, for a kuberc it cannot edit safely: a
// misconfigured allowlist, an unknown policy, an older Preference version.
func (f *File) Allow(command string, keep []string) (*Change, error) {
	if f.Off {
		return nil, errors.New("kuberc is off (KUBERC=off or KUBECTL_KUBERC=false): kubectl runs every credential plugin, there is nothing to allow")
	}
	if p := f.Pref; p != nil && p.APIVersion != apiVersion {
		return nil, fmt.Errorf("%s is %s, which has no credential-plugin policy; change its apiVersion to %s to use one", f.Path, p.APIVersion, apiVersion)
	}
	var data []byte
	if f.Exists {
		var err error
		if data, err = readFile(f.Path); err != nil {
			return nil, err
		}
	}
	docs, err := decodeAll(data)
	if err != nil {
		return nil, fmt.Errorf("kuberc %s: %w", f.Path, err)
	}
	pref := findPreference(docs)
	if pref == nil {
		pref = &yaml.Node{Kind: yaml.MappingNode}
		setScalar(pref, "apiVersion", apiVersion)
		setScalar(pref, "kind", kind)
		docs = append(docs, &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{pref}})
	}
	policy := ""
	if f.Pref != nil {
		policy = f.Pref.Policy
	}
	var allow []string
	var lines []string
	switch policy {
	case PolicyAllowlist:
		if err := validateAllowlist(f.Pref); err != nil {
			return nil, fmt.Errorf("%s: %v; fix it by hand (kubectl runs no credential plugin until then)", f.Path, err)
		}
		allow = []string{command}
		lines = []string{fmt.Sprintf("add %s to credentialPluginAllowlist", command)}
	case PolicyDenyAll:
		allow = []string{command}
		lines = []string{"change credentialPluginPolicy from DenyAll to Allowlist", fmt.Sprintf("allow %s only; every other credential plugin stays refused", command)}
	case "", PolicyAllowAll:
		if f.Pref != nil && f.Pref.HasAllowlist {
			return nil, fmt.Errorf("%s lists a credentialPluginAllowlist without policy Allowlist, which kubectl refuses; fix it by hand", f.Path)
		}
		allow = append([]string{command}, without(keep, command)...)
		lines = []string{"turn on credentialPluginPolicy: Allowlist (kubectl then runs only the credential plugins listed)",
			fmt.Sprintf("allow %s", command)}
		if others := without(keep, command); len(others) > 0 {
			lines = append(lines, fmt.Sprintf("keep allowing the credential plugins your kubeconfig runs: %s", strings.Join(others, ", ")))
		}
	default:
		return nil, fmt.Errorf("%s has credentialPluginPolicy %q, which kubectl does not know; fix it by hand", f.Path, policy)
	}
	setScalar(pref, "credentialPluginPolicy", PolicyAllowlist)
	list := mapValue(pref, "credentialPluginAllowlist")
	if list == nil || list.Kind != yaml.SequenceNode || policy != PolicyAllowlist {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		setValue(pref, "credentialPluginAllowlist", list)
	}
	for _, c := range allow {
		entry := &yaml.Node{Kind: yaml.MappingNode}
		setScalar(entry, "command", c)
		list.Content = append(list.Content, entry)
	}
	content, err := encodeAll(docs)
	if err != nil {
		return nil, err
	}
	// Hold ourselves to kubectl's reading of what we wrote.
	written, err := parse(content)
	if err != nil || written == nil {
		return nil, fmt.Errorf("kuberc %s: the edit would not read back (%v); nothing written", f.Path, err)
	}
	return &Change{Lines: lines, content: content}, nil
}

// Write replaces the kuberc with c atomically, keeping its mode (0600 for a
// new file).
func (f *File) Write(c *Change) error {
	return atomicfile.Write(f.Path, c.content, 0o600)
}

// Content is the kuberc c writes.
func (c *Change) Content() []byte { return c.content }

// interpreters run whatever their args say: allowing one allows every
// command, so an allowlist turned on never keeps them.
var interpreters = []string{"sh", "bash", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "busybox", "env",
	"python", "python3", "perl", "ruby", "node", "pwsh", "powershell", "cmd", "osascript"}

// NotKeepable says why an exec command the kubeconfig runs must not be
// carried into a new allowlist, or "" when it may: a shell or interpreter,
// or a path kubectl would reject as an entry (not normalized).
func NotKeepable(command string) string {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(command)), ".exe")
	if slices.Contains(interpreters, base) || strings.HasPrefix(base, "python") {
		return "a shell or interpreter runs any command its args name; allowing it would allow everything"
	}
	if filepath.Clean(command) != command {
		return "not a normalized path, which kubectl refuses in an allowlist"
	}
	return ""
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func decodeAll(data []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func encodeAll(docs []*yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// findPreference is the mapping of the first Preference document.
func findPreference(docs []*yaml.Node) *yaml.Node {
	for _, d := range docs {
		if d.Kind != yaml.DocumentNode || len(d.Content) == 0 || d.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := d.Content[0]
		av, k := mapValue(m, "apiVersion"), mapValue(m, "kind")
		if av == nil || k == nil {
			continue
		}
		if g, _, _ := strings.Cut(av.Value, "/"); g == group && k.Value == kind {
			return m
		}
	}
	return nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func setScalar(m *yaml.Node, key, value string) {
	setValue(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}
