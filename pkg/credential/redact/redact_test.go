package redact

import (
	"strings"
	"testing"
)

const (
	secretID      = "eyJSECRETIDTOKEN0123456789"
	secretRefresh = "SECRETREFRESHTOKEN0123456789"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"bad token " + secretRefresh + ".", "bad token " + Redacted + "."},
		{"prefix " + secretRefresh[:14] + " only", "prefix " + Redacted + " only"},
		{"id " + secretID + " and " + secretRefresh[3:], "id " + Redacted + " and " + Redacted},
		{"no secret here, 0123456789 is short", "no secret here, 0123456789 is short"},
		// Folded quotes, after text whose bytes a Unicode case fold would
		// shift (İ lowercases to three bytes) and a byte that is no UTF-8.
		{"host İ \xff " + strings.ToLower(secretID) + ":443", "host İ \xff " + Redacted + ":443"},
		{"Ü " + strings.ToUpper(secretID) + " ü", "Ü " + Redacted + " ü"},
		{"", ""},
	} {
		if got := Redact(tc.text, secretID, secretRefresh); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestQuotes(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"keyring: bad value " + secretRefresh[2:16], true},
		{"keyring: bad value " + secretRefresh[2:13], false}, // 11 bytes: under the run
		{"keyring: no such item", false},
	} {
		if got := Quotes(tc.msg, secretRefresh); got != tc.want {
			t.Errorf("Quotes(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
	if !Quotes("short: abc", "abc") {
		t.Error("a value shorter than the run is quoted when all of it appears")
	}
}
