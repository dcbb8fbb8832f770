package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/securekapi/securekapi/test/e2e/benchkit"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// ciColdRuns is how many cold CI calls are timed: each one requests the
// job's token from the CI provider and exchanges it at Dex.
const ciColdRuns = 10

// benchCI measures the CI grant (issue #15) in the same run as the person's
// path: its cached path through the small program and the file store (the
// one store CI grants use) beside the person's file-store row, and its
// cold path (the GitHub-shaped token request plus the RFC 8693 exchange at
// the real Dex, then the ExecCredential), with the token file removed
// before each cold run.
func benchCI(ctx context.Context, se *stack.Session, s *stack.Stack, env []string, n, warmup int) error {
	if r := se.Securekapi(ctx, "use", "e2e", "--approve", "--ci", "github", "--ci-grant", "token-exchange",
		"--token-exchange-connector-id", stack.CIConnectorID); r.Err != nil {
		return fmt.Errorf("use e2e --ci github: %v\n%s", r.Err, r.Stderr)
	}
	ska, err := execArgs(ctx, se)
	if err != nil {
		return err
	}
	ciEnv := append(append([]string{}, env...), "CI=true",
		"ACTIONS_ID_TOKEN_REQUEST_URL="+s.CI.RequestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+s.CI.RequestToken,
		"SSL_CERT_FILE="+s.CI.CAFile)
	credArgs := append([]string{"credential"}, ska...)
	tokens := filepath.Join(se.Dir, "cache", "tokens")
	before, _ := filepath.Glob(filepath.Join(tokens, "*"))

	requests := s.CI.TokenRequests()
	var cold []benchkit.Sample
	var entry string
	for i := 0; i < ciColdRuns; i++ {
		if entry != "" {
			if err := os.Remove(entry); err != nil {
				return err
			}
		}
		sm, err := once(ctx, se.Plugin, credArgs, ciEnv, true)
		if err != nil {
			return fmt.Errorf("CI cold run %d: %w", i+1, err)
		}
		cold = append(cold, sm)
		if entry == "" {
			if entry = newFile(tokens, before); entry == "" {
				return fmt.Errorf("the CI grant cached no token file in %s", tokens)
			}
		}
	}
	if got := s.CI.TokenRequests() - requests; got != ciColdRuns {
		return fmt.Errorf("%d cold runs made %d CI token requests", ciColdRuns, got)
	}

	requests = s.CI.TokenRequests()
	tools := []tool{{name: "securekapi credential, CI token exchange, cached (small program, file store)", bin: se.Plugin, args: credArgs, env: ciEnv, token: true}}
	samples, err := measure(ctx, tools, n, warmup)
	if err != nil {
		return fmt.Errorf("CI cached path: %w", err)
	}
	if got := s.CI.TokenRequests() - requests; got != 0 {
		return fmt.Errorf("the cached CI path made %d token requests; it was not measured", got)
	}
	coldWalls, coldRSS := benchkit.Split(cold)
	walls, rss := benchkit.Split(samples[0])
	fmt.Println("## CI grant (token exchange of a GitHub-Actions-shaped token at Dex), file store")
	fmt.Println()
	fmt.Println("| path | runs | median ms | p90 ms | median peak RSS MiB |")
	fmt.Println("|---|---:|---:|---:|---:|")
	fmt.Printf("| cached (%s) | %d | %.1f | %.1f | %.1f |\n", tools[0].name, len(walls), benchkit.Percentile(walls, 50), benchkit.Percentile(walls, 90), benchkit.Percentile(rss, 50))
	fmt.Printf("| cold: CI token request + exchange at Dex + ExecCredential (full CLI) | %d | %.1f | %.1f | %.1f |\n", len(coldWalls), benchkit.Percentile(coldWalls, 50), benchkit.Percentile(coldWalls, 90), benchkit.Percentile(coldRSS, 50))
	fmt.Println()
	return nil
}

// newFile is a file in dir that was not in before.
func newFile(dir string, before []string) string {
	now, _ := filepath.Glob(filepath.Join(dir, "*"))
	seen := map[string]bool{}
	for _, f := range before {
		seen[f] = true
	}
	for _, f := range now {
		if !seen[f] {
			return f
		}
	}
	return ""
}
