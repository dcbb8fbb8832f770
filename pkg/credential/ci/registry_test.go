package ci

import (
	"context"
	"strings"
	"testing"
)

// TestEverySystemIsComplete: names are unique, every provider a system
// names is listed once, and a provider whose tokens anyone on the service
// can ask for says which rule binds them and which claims exist.
func TestEverySystemIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range systems {
		if seen[s.Name()] {
			t.Errorf("two systems are named %s", s.Name())
		}
		seen[s.Name()] = true
		if got := ProviderOf(s.Provider().Name); got != s.Provider() {
			t.Errorf("%s: its provider %s is not listed", s.Name(), s.Provider().Name)
		}
	}
	for _, p := range Providers() {
		if p.NeedsRule && (p.ExampleRule == "" || len(p.Claims) == 0) {
			t.Errorf("provider %s needs a rule but shows no example or claims", p.Name)
		}
	}
	if _, err := Get("--ci", "jenkins"); err == nil || !strings.Contains(err.Error(), `--ci "jenkins": use github, gitlab, file`) {
		t.Errorf("unknown system: %v", err)
	}
}

// TestGitHubAsksForTheAudience: the request carries the audience and the
// job's request token as the bearer, and an error never quotes that
// token.
func TestGitHubAsksForTheAudience(t *testing.T) {
	env := map[string]string{GitHubRequestURLVar: "https://token.example/?api-version=2.0", GitHubRequestTokenVar: "REQ-TOKEN"}
	var gotURL, gotBearer string
	e := Env{Getenv: func(k string) string { return env[k] }, Get: func(_ context.Context, u, bearer string) (int, []byte, error) {
		gotURL, gotBearer = u, bearer
		return 200, []byte(`{"value":"the-jwt"}`), nil
	}}
	raw, _, err := github{}.Read(context.Background(), Settings{Audience: "kube"}, e)
	if err != nil || raw != "the-jwt" || gotBearer != "REQ-TOKEN" || !strings.Contains(gotURL, "audience=kube") {
		t.Fatalf("raw %q, url %q, bearer %q, err %v", raw, gotURL, gotBearer, err)
	}
	e.Get = func(context.Context, string, string) (int, []byte, error) { return 403, []byte("REQ-TOKEN"), nil }
	if _, _, err := (github{}).Read(context.Background(), Settings{Audience: "kube"}, e); err == nil || strings.Contains(err.Error(), "REQ-TOKEN") {
		t.Errorf("refusal: %v", err)
	}
	if !(github{}).Present(Settings{}, e) || (github{}).Present(Settings{}, Env{Getenv: func(string) string { return "" }}) {
		t.Error("presence does not follow the request variables")
	}
}
