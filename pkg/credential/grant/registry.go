package grant

import (
	"fmt"
	"strings"
)

// grants are the grants --grant takes, one line each, in the order
// messages list them. A new grant is a file and a line here.
var grants = [...]Grant{
	auto{},
	authCode{},
	deviceCode{},
	ciToken{},
	tokenExchange{},
	clientCredentials{},
	jwtBearer{},
}

// Lookup is the grant a name names.
func Lookup(name string) (Grant, bool) {
	for _, g := range grants {
		if g.Name() == name {
			return g, true
		}
	}
	return nil, false
}

// Get is Lookup with the error to show for an unknown name.
func Get(name string) (Grant, error) {
	if g, ok := Lookup(name); ok {
		return g, nil
	}
	return nil, fmt.Errorf("--grant %q: use %s (a person logs in), or %s (a CI job)", name, orList(Names(true)), orList(Names(false)))
}

// Names are the grants a person runs (person), or the others.
func Names(person bool) []string {
	var out []string
	for _, g := range grants {
		if g.Person() == person {
			out = append(out, g.Name())
		}
	}
	return out
}

// Usage lists the grants for a flag's help: "name (help)", a person's
// (person) or the others.
func Usage(person bool) string {
	var out []string
	for _, g := range grants {
		if g.Person() == person {
			out = append(out, g.Name()+" ("+g.Help()+")")
		}
	}
	return orList(out)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
