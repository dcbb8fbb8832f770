// Command testbrowser is the "browser" the e2e tests and the demo hand to
// `kubectl securekapi login --browser-command`: it completes Dex's login
// page for a test user over real HTTP, so the authorization-code flow with
// PKCE runs end to end without a person.
//
// Usage: testbrowser URL   (env: TESTBROWSER_USER, TESTBROWSER_PASSWORD,
// TESTBROWSER_CA_FILE; TESTBROWSER_LOG, if set, gets a line per completed login)
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: testbrowser URL")
		os.Exit(2)
	}
	ca, err := os.ReadFile(os.Getenv("TESTBROWSER_CA_FILE"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbrowser: read TESTBROWSER_CA_FILE: %v\n", err)
		os.Exit(1)
	}
	b := &stack.Browser{
		User:     stack.User{Email: os.Getenv("TESTBROWSER_USER"), Password: os.Getenv("TESTBROWSER_PASSWORD")},
		DexCAPEM: ca,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.Open(ctx, os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "testbrowser: %v\n", err)
		os.Exit(1)
	}
	if log := os.Getenv("TESTBROWSER_LOG"); log != "" {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, "completed login")
			f.Close()
		}
	}
}
