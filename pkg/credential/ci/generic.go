package ci

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// file reads the token from a file whatever runs the job keeps current: a
// projected service-account token, for one. It is read afresh each time.
type file struct{}

func (file) Name() string        { return "file" }
func (file) Provider() *Provider { return Generic }

func (file) Present(s Settings, _ Env) bool {
	_, err := os.Stat(s.File)
	return s.File != "" && err == nil
}

func (file) Material(s Settings, e Env) string {
	b, err := readFile(e)(s.File)
	if err != nil {
		return ""
	}
	return string(b)
}

func (file) Validate(s Settings) error {
	if s.File == "" {
		return fmt.Errorf("--ci-token-source file needs --ci-token-file PATH")
	}
	return nil
}

func (file) Read(_ context.Context, s Settings, e Env) (string, string, error) {
	b, err := readFile(e)(s.File)
	if err != nil {
		return "", s.File, fmt.Errorf("read the CI token file: %w; fix --ci-token-file, or mount the token there", err)
	}
	raw := strings.TrimSpace(string(b))
	if raw == "" {
		return "", s.File, fmt.Errorf("the CI token file %s is empty", s.File)
	}
	return raw, s.File, nil
}

func (file) RenewHint(s Settings) string {
	return "whatever writes " + s.File + " has stopped renewing it (for a projected service-account token, check the pod's volume)"
}

func (file) AudienceHint(s Settings) string {
	return "have the token made for audience " + s.Audience + " (for a projected service-account token, its `audience` field)"
}

// env reads the token from a variable the job fills.
type env struct{}

func (env) Name() string                      { return "env" }
func (env) Provider() *Provider               { return Generic }
func (env) Present(s Settings, e Env) bool    { return s.Var != "" && e.Getenv(s.Var) != "" }
func (env) Material(s Settings, e Env) string { return e.Getenv(s.Var) }
func (env) Validate(s Settings) error {
	return needVar("env", s, "the variable the job puts its token in")
}
func (env) RenewHint(s Settings) string    { return "put a current token in $" + s.Var }
func (env) AudienceHint(s Settings) string { return "have the token made for audience " + s.Audience }

func (env) Read(_ context.Context, s Settings, e Env) (string, string, error) {
	return readVar(s, e, "the job must put its OIDC token there, or fix --ci-token-var")
}

// readVar reads a token from s.Var; fix says how to set it.
func readVar(s Settings, e Env, fix string) (string, string, error) {
	where := "$" + s.Var
	raw := strings.TrimSpace(e.Getenv(s.Var))
	if raw == "" {
		return "", where, fmt.Errorf("%s is not set: %s", s.Var, fix)
	}
	return raw, where, nil
}

// needVar refuses a variable source with no --ci-token-var.
func needVar(source string, s Settings, what string) error {
	if s.Var == "" {
		return fmt.Errorf("--ci-token-source %s needs --ci-token-var: the name of the variable that holds the token (%s)", source, what)
	}
	return nil
}

func readFile(e Env) func(string) ([]byte, error) {
	if e.ReadFile != nil {
		return e.ReadFile
	}
	// A stanza names the file: a FIFO or /dev/zero must not stall or
	// exhaust the call (ReadPlainFile refuses both).
	return userfile.ReadPlainFile
}
