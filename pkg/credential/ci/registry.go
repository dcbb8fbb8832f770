package ci

import (
	"fmt"
	"slices"
)

// systems are the CI systems securekapi knows, one line each, in the
// order messages list them. A new system is a file and a line here.
var systems = [...]System{
	github{},
	gitlab{},
	file{},
	env{},
	circleci{},
}

// Lookup is the system --ci or --ci-token-source names.
func Lookup(name string) (System, bool) {
	for _, s := range systems {
		if s.Name() == name {
			return s, true
		}
	}
	return nil, false
}

// Get is Lookup with the error to show for an unknown name; flag is the
// flag that named it.
func Get(flag, name string) (System, error) {
	if s, ok := Lookup(name); ok {
		return s, nil
	}
	return nil, fmt.Errorf("%s %q: use %s", flag, name, SourceList())
}

// SourceList is "github, gitlab, file or env": the systems, for messages.
func SourceList() string { return orList(Names()) }

// Names are the systems' names.
func Names() []string {
	out := make([]string, len(systems))
	for i, s := range systems {
		out[i] = s.Name()
	}
	return out
}

// Providers are the providers of the systems, each once: the values a
// profile's and authn-config's --ci take.
func Providers() []*Provider {
	var out []*Provider
	for _, s := range systems {
		if p := s.Provider(); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// ProviderNames are the providers' names.
func ProviderNames() []string {
	var out []string
	for _, p := range Providers() {
		out = append(out, p.Name)
	}
	return out
}

// ProviderOf is the provider a name names, or nil.
func ProviderOf(name string) *Provider {
	for _, p := range Providers() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ProviderForIssuer is the provider whose fixed issuer this is, or nil
// (a GitLab instance or any other issuer is known only by what the
// platform owner says).
func ProviderForIssuer(issuer string) *Provider {
	for _, p := range Providers() {
		if p.Issuer != "" && trimSlash(p.Issuer) == trimSlash(issuer) {
			return p
		}
	}
	return nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
