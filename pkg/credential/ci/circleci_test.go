package ci

import (
	"context"
	"strings"
	"testing"
)

// TestCircleCIReadsItsVariable: CIRCLE_OIDC_TOKEN_V2 unless
// --ci-token-var names another (CIRCLE_OIDC_TOKEN), present only in a job
// that has it, and a missing one is said by name.
func TestCircleCIReadsItsVariable(t *testing.T) {
	env := map[string]string{"CIRCLE_OIDC_TOKEN_V2": "v2-jwt", "CIRCLE_OIDC_TOKEN": "v1-jwt"}
	e := Env{Getenv: func(k string) string { return env[k] }}
	sys, ok := Lookup("circleci")
	if !ok || sys.Provider() != ProviderOf("circleci") {
		t.Fatal("circleci is not registered with its provider")
	}
	for v, want := range map[string]string{"": "v2-jwt", "CIRCLE_OIDC_TOKEN": "v1-jwt"} {
		raw, where, err := sys.Read(context.Background(), Settings{Var: v}, e)
		if err != nil || raw != want || sys.Material(Settings{Var: v}, e) != want || !sys.Present(Settings{Var: v}, e) {
			t.Errorf("var %q: %q from %s, %v", v, raw, where, err)
		}
	}
	none := Env{Getenv: func(string) string { return "" }}
	if sys.Present(Settings{}, none) {
		t.Error("present outside a CircleCI job")
	}
	if _, _, err := sys.Read(context.Background(), Settings{}, none); err == nil || !strings.Contains(err.Error(), "CIRCLE_OIDC_TOKEN_V2 is not set") {
		t.Errorf("missing: %v", err)
	}
}
