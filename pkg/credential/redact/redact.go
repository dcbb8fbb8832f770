// Package redact keeps this process's tokens out of what it prints. Every
// token the process holds is remembered (Secrets), and errors and log lines
// pass through Redact on their way out, so a token never reaches a terminal
// or a log, whoever quoted it: an identity provider's error_description, a
// keyring backend's error, a library's message.
//
// It links the standard library only; the small exec program uses it.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package redact

import (
	"io"
	"strings"
	"sync"
)

// quoteRun is the shortest run of the secret that, found in a backend's
// error text, makes us withhold that text. Shorter than any token fragment
// worth stealing, longer than words a keyring message shares with JSON.
const quoteRun = 12

// Quotes reports whether msg holds a run of value of at least quoteRun bytes
// (or all of a shorter value): a message that quotes a secret, whole or in
// part.
func Quotes(msg, value string) bool {
	for i := range len(msg) {
		if quoteAt(msg[i:], value) > 0 {
			return true
		}
	}
	return false
}

// quoteAt is the length of the longest prefix of text that occurs in
// value, when that prefix is at least quoteRun bytes (or all of a shorter
// value) long, else 0.
func quoteAt(text, value string) int {
	n := min(quoteRun, len(value))
	if n == 0 || len(text) < n || !strings.Contains(value, text[:n]) {
		return 0
	}
	for n < len(text) && strings.Contains(value, text[:n+1]) {
		n++
	}
	return n
}

// Redacted stands in for a secret taken out of printed text.
const Redacted = "[redacted]"

// Redact replaces, in text, every quote of a secret (a run of at least
// quoteRun bytes found in it: the whole token, or a piece an identity
// provider echoed back) with Redacted. Quotes match in any ASCII case:
// whoever prints a token may have folded it (the tunnel logs a target host
// lowercased, a header may be canonicalized).
func Redact(text string, secrets ...string) string {
	folded := asciiLower(text)
	lowered := make([]string, len(secrets))
	for i, s := range secrets {
		lowered[i] = asciiLower(s)
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		n := 0
		for _, s := range lowered {
			n = max(n, quoteAt(folded[i:], s))
		}
		if n == 0 {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(Redacted)
		i += n
	}
	return b.String()
}

// Secrets are the tokens this process has held. Whatever the process
// prints (errors, log lines) goes through Redact, so no token reaches a
// terminal or a log, whoever quoted it: an identity provider's
// error_description, a library's error. Safe for concurrent use; a nil
// *Secrets remembers nothing and redacts nothing.
type Secrets struct {
	mu     sync.Mutex
	values []string
}

// Add remembers tokens; empty ones are ignored.
func (s *Secrets) Add(tokens ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		if t != "" {
			s.values = append(s.values, t)
		}
	}
}

// Redact takes every remembered token out of text.
func (s *Secrets) Redact(text string) string {
	if s == nil {
		return text
	}
	s.mu.Lock()
	values := s.values
	s.mu.Unlock()
	if len(values) == 0 {
		return text
	}
	return Redact(text, values...)
}

// Writer returns w behind Redact. Each Write is redacted on its own, so it
// suits writers that get whole messages (a log handler's records).
func (s *Secrets) Writer(w io.Writer) io.Writer {
	if s == nil {
		return w
	}
	return &redactingWriter{w: w, s: s}
}

type redactingWriter struct {
	w io.Writer
	s *Secrets
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.s.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// asciiLower folds ASCII letters only, so every byte keeps its offset and a
// match in the folded text marks the same bytes in the original.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
