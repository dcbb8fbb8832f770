package mint

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/credential/ci"
)

var now = time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)

func ciJWT(aud string, exp time.Time) string {
	return testjwt.Unsigned(map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:org/app:ref:refs/heads/main", "aud": aud, "exp": exp.Unix()})
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// githubService is GitHub Actions' token request API: the request token
// as a bearer token, the audience in the query next to api-version.
func githubService(t *testing.T, requestToken string, requests *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "api-version lost", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": ciJWT(r.URL.Query().Get("audience"), now.Add(5*time.Minute))})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGitHubRequestsTheAudienceWithTheJobsRequestToken(t *testing.T) {
	var requests atomic.Int32
	srv := githubService(t, "job-request-token", &requests)
	f := &Fetcher{Source: "github", Audience: "https://kapi.example.com", HTTPClient: srv.Client(), Now: func() time.Time { return now },
		MinValidity: time.Minute, Getenv: env(map[string]string{
			ci.GitHubRequestURLVar:   srv.URL + "/_apis/distributedtask/idtoken?api-version=2.0",
			ci.GitHubRequestTokenVar: "job-request-token",
		})}
	tok, err := f.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Audience[0] != "https://kapi.example.com" || requests.Load() != 1 {
		t.Errorf("claims %+v after %d requests", tok.Claims, requests.Load())
	}
}

// TestErrorsNameWhatToFix: each failure names the variable, file or
// setting, and no error quotes a token.
func TestErrorsNameWhatToFix(t *testing.T) {
	var requests atomic.Int32
	srv := githubService(t, "job-request-token", &requests)
	good := ciJWT("kube", now.Add(5*time.Minute))
	for _, tc := range []struct {
		name string
		f    Fetcher
		want []string
	}{
		{"github outside a job", Fetcher{Source: "github", Getenv: env(nil)},
			[]string{"ACTIONS_ID_TOKEN_REQUEST_URL is not set", "id-token: write"}},
		{"github without the request token", Fetcher{Source: "github", Getenv: env(map[string]string{ci.GitHubRequestURLVar: srv.URL + "/?api-version=2.0"})},
			[]string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set"}},
		{"github refuses", Fetcher{Source: "github", Audience: "kube", HTTPClient: srv.Client(), Getenv: env(map[string]string{
			ci.GitHubRequestURLVar: srv.URL + "/?api-version=2.0", ci.GitHubRequestTokenVar: "stale"})},
			[]string{"401", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}},
		{"gitlab variable missing", Fetcher{Source: "gitlab", Var: "KAPI_ID_TOKEN", Audience: "kube", Getenv: env(nil)},
			[]string{"KAPI_ID_TOKEN is not set", "id_tokens", "aud: kube"}},
		{"gitlab wrong audience", Fetcher{Source: "gitlab", Var: "KAPI_ID_TOKEN", Audience: "kube", Getenv: env(map[string]string{"KAPI_ID_TOKEN": ciJWT("https://gitlab.example.com", now.Add(time.Hour))})},
			[]string{"audience https://gitlab.example.com", "expects kube", "`aud: kube` for KAPI_ID_TOKEN"}},
		{"gitlab expired", Fetcher{Source: "gitlab", Var: "KAPI_ID_TOKEN", Audience: "kube", MinValidity: time.Minute, Getenv: env(map[string]string{"KAPI_ID_TOKEN": ciJWT("kube", now.Add(30*time.Second))})},
			[]string{"$KAPI_ID_TOKEN expired at 2026-12-01T23:00:30Z", "once when the job starts"}},
		{"env not a token", Fetcher{Source: "env", Var: "TOK", Getenv: env(map[string]string{"TOK": "not-a-jwt-but-secret"})},
			[]string{"$TOK does not hold an OIDC token"}},
		{"file missing", Fetcher{Source: "file", File: "/nonexistent/token", Getenv: env(nil)},
			[]string{"/nonexistent/token", "--ci-token-file"}},
		{"file wrong audience", Fetcher{Source: "file", File: "/var/run/token", Audience: "other", Getenv: env(nil),
			ReadFile: func(string) ([]byte, error) { return []byte(good + "\n"), nil }},
			[]string{"from /var/run/token is for audience kube", "projected service-account token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Now = func() time.Time { return now }
			_, err := tc.f.Fetch(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			for _, secret := range []string{good, "not-a-jwt-but-secret", "stale", "job-request-token"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a secret: %v", err)
				}
			}
		})
	}
}

func TestFileIsReadAfreshEachTime(t *testing.T) {
	contents := []string{ciJWT("kube", now.Add(time.Hour)), ciJWT("kube", now.Add(2*time.Hour))}
	reads := 0
	f := &Fetcher{Source: "file", File: "/t", Audience: "kube", Getenv: env(nil), Now: func() time.Time { return now },
		ReadFile: func(string) ([]byte, error) {
			if reads >= len(contents) {
				return nil, errors.New("no more")
			}
			reads++
			return []byte(contents[reads-1]), nil
		}}
	a, err := f.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Raw == b.Raw || !b.Claims.Expiry.Equal(now.Add(2*time.Hour).Truncate(time.Second)) {
		t.Errorf("the rotated file was not read again: %v then %v", a.Claims.Expiry, b.Claims.Expiry)
	}
}
