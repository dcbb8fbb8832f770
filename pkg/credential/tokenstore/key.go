package tokenstore

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Key names one login: clusters that share issuer, client, scopes and extra
// authorization parameters share tokens.
type Key struct {
	Issuer      string
	ClientID    string
	Scopes      []string
	ExtraParams map[string]string
	// Grant is empty for a person's login. A machine grant (a CI token,
	// token exchange, client credentials) names itself and its source
	// here, so its tokens never share an entry, or an approval, with a
	// person's login for the same issuer and client.
	Grant string
}

// Canonical is a stable text form of the key: scopes sorted and deduplicated,
// parameters sorted by name, every string Go-quoted. Quoting (rather than
// joining with a separator, or JSON, which folds invalid UTF-8 into U+FFFD)
// makes the text unambiguous, so two different keys never share it.
func (k Key) Canonical() string {
	var b strings.Builder
	b.WriteString("securekapi-key/v1 issuer=")
	b.WriteString(strconv.Quote(k.Issuer))
	b.WriteString(" client_id=")
	b.WriteString(strconv.Quote(k.ClientID))
	b.WriteString(" scopes=[")
	for i, s := range normalScopes(k.Scopes) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(s))
	}
	b.WriteString("] extra_params={")
	for i, name := range sortedNames(k.ExtraParams) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		b.WriteString(strconv.Quote(k.ExtraParams[name]))
	}
	b.WriteString("}")
	if k.Grant != "" { // absent for a person's login: their keys are unchanged
		b.WriteString(" grant=")
		b.WriteString(strconv.Quote(k.Grant))
	}
	return b.String()
}

// ID is the hex SHA-256 of Canonical: safe as a file name, keyring account
// and lock name, and it reveals nothing about the issuer.
func (k Key) ID() string {
	sum := sha256.Sum256([]byte(k.Canonical()))
	return hex.EncodeToString(sum[:])
}

func normalScopes(scopes []string) []string {
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedNames(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
