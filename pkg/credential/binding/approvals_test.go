package binding

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/atomicfile"
)

const (
	pinA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	pinB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestMissingFileApprovesNothing(t *testing.T) {
	s := &ApprovalStore{Path: filepath.Join(t.TempDir(), ApprovalsFileName)}
	f, err := s.Load()
	if err != nil || len(f.Approvals) != 0 || f.Allows("id", NewTarget("https://a:443", []string{pinA})) {
		t.Fatalf("Load() of a missing file = %+v, %v", f, err)
	}
}

func TestUpdateRoundTripsAndForgets(t *testing.T) {
	s := &ApprovalStore{Path: filepath.Join(t.TempDir(), "cache", ApprovalsFileName)}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := s.Update(func(f *ApprovalsFile) error {
		f.Approve(Approval{Identity: "id1", Cluster: "a", Server: "https://a:443", Pins: []string{pinB, pinA, pinA}, ApprovedAt: at, Via: "import"})
		f.Approve(Approval{Identity: "id1", Cluster: "b", Server: "https://b:443", Pins: []string{pinA}, Via: "import"})
		if f.Approve(Approval{Identity: "id1", Cluster: "a2", Server: "https://a:443", Pins: []string{pinA, pinB}, Via: "login"}) {
			t.Error("the same identity and target approved twice counts as new")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.Path)
	// Windows has no Unix modes.
	if err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("approvals file mode %v, %v; want 0600", fi.Mode(), err)
	}
	f, err := s.Load()
	if err != nil || len(f.Approvals) != 2 {
		t.Fatalf("Load() = %+v, %v", f, err)
	}
	if !f.Allows("id1", NewTarget("https://a:443", []string{pinA, pinB})) || f.Approvals[0].Cluster != "a2" {
		t.Fatalf("replaced approval lost: %+v", f.Approvals)
	}
	for name, target := range map[string]Target{
		"fewer pins":     NewTarget("https://a:443", []string{pinA}),
		"other server":   NewTarget("https://c:443", []string{pinA}),
		"no pins":        NewTarget("https://b:443", nil),
		"other identity": NewTarget("https://b:443", []string{pinA}),
	} {
		id := "id1"
		if name == "other identity" {
			id = "id2"
		}
		if f.Allows(id, target) {
			t.Errorf("%s: allowed", name)
		}
	}
	if err := s.Update(func(f *ApprovalsFile) error {
		if gone := f.Forget(func(a Approval) bool { return a.Server == "https://b:443" }); len(gone) != 1 || gone[0].Cluster != "b" {
			t.Errorf("Forget() = %+v", gone)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Load(); len(f.Approvals) != 1 || f.Allows("id1", NewTarget("https://b:443", []string{pinA})) {
		t.Fatalf("after Forget: %+v", f.Approvals)
	}
}

func TestDamagedOrNewerFileIsAnError(t *testing.T) {
	for name, content := range map[string]string{
		"garbage": `{"version": 1, "approvals": [`,
		"newer":   `{"version": 2, "approvals": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := &ApprovalStore{Path: filepath.Join(t.TempDir(), ApprovalsFileName)}
			if err := atomicfile.WriteMode(s.Path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load()
			if err == nil || !strings.Contains(err.Error(), s.Path) || !strings.Contains(err.Error(), "kubectl securekapi login") {
				t.Fatalf("Load() = %v", err)
			}
			if err := s.Update(func(*ApprovalsFile) error { return nil }); err == nil {
				t.Fatal("Update() overwrote a damaged or newer file")
			}
		})
	}
}

// TestConcurrentApprovalsAllLand: commands approving at once (an import
// and a login, say) each land; the file stays 0600, and a damaged file is
// refused by Update too, not overwritten.
func TestConcurrentApprovalsAllLand(t *testing.T) {
	s := &ApprovalStore{Path: filepath.Join(t.TempDir(), ApprovalsFileName)}
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			server := fmt.Sprintf("https://c%d:443", i)
			if err := s.Update(func(f *ApprovalsFile) error {
				f.Approve(Approval{Identity: "id1", Cluster: server, Server: server, Pins: []string{pinA}, Via: "login"})
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f, err := s.Load()
	if err != nil || len(f.Approvals) != n {
		t.Fatalf("after %d concurrent approvals: %d in the file, %v", n, len(f.Approvals), err)
	}
	// Windows has no Unix modes.
	if fi, err := os.Stat(s.Path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("approvals file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if err := atomicfile.WriteMode(s.Path, []byte("{damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(*ApprovalsFile) error { return nil }); err == nil || !strings.Contains(err.Error(), "is damaged") {
		t.Fatalf("Update over a damaged file: %v", err)
	}
	if got, _ := os.ReadFile(s.Path); string(got) != "{damaged" {
		t.Errorf("Update overwrote a damaged file with %q", got)
	}
}

// An approval covers everything that decides where a token or a refresh
// token goes (issue #23): a third-party profile that reuses an approved
// cluster's server and pins with its own tls-server-name, or a stanza that
// trusts the issuer through another CA bundle, is a new decision.
func TestApprovalCoversTheTLSNameAndTheIssuerTrust(t *testing.T) {
	approved := Target{Server: "https://kapi.example.com:443", ServerName: "kapi.example.com", Pins: []string{pinA}, IssuerTrust: "ca sha256:1111"}
	f := &ApprovalsFile{Version: ApprovalsVersion}
	f.Approve(ApprovalFor("id1", approved))
	if !f.Allows("id1", Target{Server: "https://kapi.example.com:443", ServerName: "KAPI.example.com", Pins: []string{pinA}, IssuerTrust: "ca sha256:1111"}) {
		t.Fatal("the approved target itself (its name in other case) is not allowed")
	}
	for name, target := range map[string]Target{
		"another TLS name":           {Server: approved.Server, ServerName: "internal.example.com", Pins: approved.Pins, IssuerTrust: approved.IssuerTrust},
		"the issuer by system roots": {Server: approved.Server, ServerName: approved.ServerName, Pins: approved.Pins},
		"another issuer CA":          {Server: approved.Server, ServerName: approved.ServerName, Pins: approved.Pins, IssuerTrust: "ca sha256:2222"},
	} {
		if f.Allows("id1", target) {
			t.Errorf("%s: allowed by the approval of %+v", name, approved)
		}
	}
}

// Approvals written before the name and the issuer trust were recorded
// read as the defaults: the URL host, and the system roots.
func TestOlderApprovalsReadAsTheDefaults(t *testing.T) {
	s := &ApprovalStore{Path: filepath.Join(t.TempDir(), ApprovalsFileName)}
	old := `{"version":1,"approvals":[{"identity":"id1","server":"https://kapi.example.com:443","pins":["` + pinA + `"]}]}`
	if err := atomicfile.WriteMode(s.Path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !f.Allows("id1", NewTarget("https://kapi.example.com:443", []string{pinA})) {
		t.Error("an older approval no longer allows its cluster at the default name and trust")
	}
	if f.Allows("id1", Target{Server: "https://kapi.example.com:443", ServerName: "other.example.com", Pins: []string{pinA}}) {
		t.Error("an older approval allows another TLS name")
	}
	if f.Allows("id1", Target{Server: "https://kapi.example.com:443", Pins: []string{pinA}, IssuerTrust: "ca sha256:1111"}) {
		t.Error("an older approval allows a private issuer CA it never recorded")
	}
}
