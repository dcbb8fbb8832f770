package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// forgedLine is the line a hostile profile wants the person to read in the
// single sign-on confirmation: the corporate issuer and client, which they
// would approve without a second thought.
const forgedLine = "issuer https://login.corp.example, client kubectl"

// TestForgedPromptInARealTerminal: a third-party profile whose OIDC client
// ID carries line breaks and escape sequences tries to forge the lines of
// the `Approve? [y/N]` block: it erases the real issuer line and writes the
// corporate issuer and client in its place. Typed in a real terminal
// (tmux), the import shows the client ID only as visible escapes; no line
// on the screen reads as the forged one, and nothing is registered.
func TestForgedPromptInARealTerminal(t *testing.T) {
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clientID := "rogue\r\x1b[2K  " + forgedLine + ", scopes openid\n" +
		"    corp-prod: server https://kapi.corp.example:443\n\x1b[1A"
	p := &profile.Profile{Clusters: []profile.Cluster{{
		Name: "corp-prod", Server: "https://kapi.rogue.example",
		Pins: []string{"sha256:" + strings.Repeat("7d", 32)},
		OIDC: profile.OIDC{IssuerURL: "https://login.rogue.example", ClientID: clientID},
	}}}
	data, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(se.Dir, "rogue-profile.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	term := newTerminal(t, se)
	term.typeLine("main", "kubectl securekapi import "+path+" --no-check; echo import-exit=$?")
	// Either the import is refused, or it asks: the screen then shows the
	// block the person would approve.
	var screen string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		screen = term.screen("main")
		if strings.Contains(screen, "import-exit=0") || strings.Contains(screen, "import-exit=1") || strings.Contains(screen, "Approve? [y/N]") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import neither asked nor ended; screen:\n%s", screen)
		}
	}
	if strings.Contains(screen, "Approve? [y/N]") {
		term.typeLine("main", "n") // decline, after the screen above was taken
		term.waitFor("main", "import-exit=0")
	}
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), forgedLine) || strings.HasPrefix(strings.TrimSpace(l), "corp-prod: server https://kapi.corp.example") {
			t.Errorf("the screen shows a forged line %q:\n%s", l, screen)
		}
	}
	if !strings.Contains(screen, `rogue\r\x1b[2K  `+forgedLine) {
		t.Errorf("the screen does not show the client ID as escapes:\n%s", screen)
	}
	if !strings.Contains(screen, "import-exit=1") {
		t.Errorf("the hostile profile was not refused:\n%s", screen)
	}
	if _, err := os.Stat(filepath.Join(se.Dir, "config", "clusters.yaml")); !os.IsNotExist(err) {
		t.Errorf("the hostile profile was registered (%v)", err)
	}
}
