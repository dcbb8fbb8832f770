// Package safetext is the one treatment of text from outside (profiles,
// exec args, ID token claims, an identity provider's error text) on its
// way to a person: Check refuses it as an identifier where it enters, and
// Escape makes it safe to print on a terminal, so that a control character
// never shapes a prompt, moves the cursor or starts an escape sequence.
//
// It links the standard library only: the small exec program checks its
// exec args with it on every kubectl call.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The longest identifiers accepted, in bytes, wherever they enter (a
// profile, add's flags, the exec args). Generous for every real value, and
// short enough that none can fill a screen.
const (
	// MaxClientID: OAuth client IDs are UUIDs, names or URLs.
	MaxClientID = 512
	// MaxURL: an issuer or endpoint URL (also an audience, often a URL).
	MaxURL = 2048
	// MaxHostName: a DNS name (253) or an IP literal; a TLS server name.
	MaxHostName = 253
	// MaxToken: a scope, an extra parameter's name, a variable or
	// connector name.
	MaxToken = 256
	// MaxValue: an extra parameter's value.
	MaxValue = 2048
	// MaxPath: a file path (PATH_MAX on Linux).
	MaxPath = 4096
)

// Check refuses s as an identifier when it is not valid UTF-8, holds a
// control character (C0, DEL, C1, a line or paragraph separator, a Unicode
// format character such as a bidi override), or is longer than max bytes.
// The message does not name the field: the caller prefixes it.
func Check(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("is %d bytes long; the limit is %d", len(s), max)
	}
	if !needsEscape(s) { // printable ASCII, or valid text without a control character
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", Quote(s))
	}
	for _, r := range s {
		if Unsafe(r) {
			return fmt.Errorf("%s holds the control character %s, which no identifier has", Quote(s), Escape(string(r)))
		}
	}
	return nil
}

// Unsafe reports whether r, printed raw, could change what a terminal
// shows around it: C0 controls, DEL, C1 controls, line and paragraph
// separators and format characters (bidi overrides and isolates,
// zero-width joiners, the byte-order mark).
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == '\u2028', r == '\u2029':
		return true
	case r < 0x80:
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

// Escape returns s with every unsafe character (Unsafe) and every byte of
// invalid UTF-8 turned into a visible escape (\n, \r, \t, \x1b, \u202e),
// and all other text, ordinary Unicode included, unchanged. Apply it to
// every outside string printed to a terminal.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && Unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case Unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// EscapeLines is Escape for a message of several lines (an error joined
// from several): each line is escaped, and the line breaks between them
// stay.
func EscapeLines(s string) string {
	if !needsEscape(s) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}

// Quote is s escaped and in double quotes, for a message that names a
// refused value.
func Quote(s string) string { return `"` + Escape(s) + `"` }

// EscapeAll escapes each of ss.
func EscapeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Escape(s)
	}
	return out
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return !plain(s[i:])
		}
	}
	return false
}

// plain reports whether s (which has a byte outside printable ASCII) is
// valid UTF-8 without an unsafe character.
func plain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if Unsafe(r) {
			return false
		}
	}
	return true
}
