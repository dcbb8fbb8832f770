package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

// rogueAPIServer is a third party's cluster: a TLS server with its own CA
// that records every Authorization header kubectl sends it.
type rogueAPIServer struct {
	URL string
	CA  *stack.CA
	mu  sync.Mutex
	got []string
}

func newRogueAPIServer(t *testing.T) *rogueAPIServer {
	t.Helper()
	ca, err := stack.NewCA("Rogue Cluster CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("127.0.0.1", stack.LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	r := &rogueAPIServer{CA: ca}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h := req.Header.Get("Authorization"); h != "" {
			r.mu.Lock()
			r.got = append(r.got, req.URL.Path)
			r.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","code":401}`)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// authorized lists the paths that arrived with an Authorization header.
func (r *rogueAPIServer) authorized() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// ssoCluster is a profile cluster naming the stack's Dex client exactly as
// AddCluster does (same issuer, client and scopes: the same login).
func ssoCluster(name, server string, caPEM []byte, pin string) profile.Cluster {
	return profile.Cluster{Name: name, Server: server, CertificateAuthorityData: caPEM, Pins: []string{pin},
		OIDC: profile.OIDC{IssuerURL: shared.IssuerURL, ClientID: shared.ClientID, ExtraScopes: []string{"email", "groups"}, CAFile: shared.DexCAFile}}
}

func writeProfile(t *testing.T, clusters ...profile.Cluster) string {
	t.Helper()
	data, err := (&profile.Profile{Clusters: clusters}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "profile.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

type statusRow struct {
	Context  string `json:"context"`
	LoggedIn bool   `json:"loggedIn"`
	Approved bool   `json:"approved"`
}

func statusRows(t *testing.T, se *stack.Session) map[string]statusRow {
	t.Helper()
	r := se.Securekapi(context.Background(), "status", "-o", "json")
	var rows []statusRow
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
		t.Fatalf("status -o json: %v\n%s%s", err, r.Stdout, r.Stderr)
	}
	out := map[string]statusRow{}
	for _, row := range rows {
		out[row.Context] = row
	}
	return out
}

// TestSSORogueClusterGetsNoToken: the user has logged in for cluster e2e.
// A third party's profile names the same issuer and client, with its own
// server and pins. Importing and using it without approving it, then
// running the real kubectl against it non-interactively, must hand it no
// token: kubectl fails at once naming the command that approves.
func TestSSORogueClusterGetsNoToken(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Fatalf("cluster e2e: whoami = %+v", w.Status.UserInfo)
	}
	ctx := context.Background()
	rogue := newRogueAPIServer(t)
	file := writeProfile(t, ssoCluster("rogue", rogue.URL, rogue.CA.CertPEM, string(trust.PinFor(rogue.CA.Cert))))
	r := se.Securekapi(ctx, "import", file)
	if r.Err != nil || !strings.Contains(r.Stderr, "Not approved") {
		t.Fatalf("import of the rogue profile: %v\n%s", r.Err, r.Stderr)
	}
	if r := se.Securekapi(ctx, "use", "rogue"); r.Err != nil || !strings.Contains(r.Stderr, "Not approved") {
		t.Fatalf("use rogue: %v\n%s", r.Err, r.Stderr)
	}
	start := time.Now()
	r = se.Kubectl(ctx, "--context", "rogue", "get", "ns", "--request-timeout=30s")
	took := time.Since(start)
	if got := rogue.authorized(); len(got) > 0 {
		t.Fatalf("the rogue cluster received a token on %v", got)
	}
	if r.Err == nil || !strings.Contains(r.Stderr, "kubectl securekapi login rogue") || !strings.Contains(r.Stderr, "not been approved") {
		t.Fatalf("kubectl against the rogue cluster: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	// Failing at once means refusing, not starting a login for the rogue
	// cluster and waiting on it: nothing of a browser or device login was
	// shown (the stanza has no --browser-command, so a login would go to the
	// system opener, not the test browser), and kubectl did not run into
	// its 30 s request timeout. (The bound is that timeout's, not a speed
	// target: a loaded CI machine took over 10 s for the refusals.)
	for _, login := range []string{"Opening the login page", "visit", "Waiting for approval"} {
		if strings.Contains(r.Stderr, login) {
			t.Errorf("kubectl against the rogue cluster started a login (%q):\n%s", login, r.Stderr)
		}
	}
	if took > 25*time.Second {
		t.Errorf("kubectl took %s to fail; it should refuse at once, not wait on a login", took)
	}
	// doctor sends the cached token to the endpoint it checks: not to this one.
	checks, passed := runDoctor(t, se)
	if f := firstFailure(checks); passed || f.Name != "cached token" || !strings.Contains(f.Fix, "kubectl securekapi login rogue") {
		t.Errorf("doctor on the rogue cluster: passed=%v first failure %+v", passed, f)
	}
	if got := rogue.authorized(); len(got) > 0 {
		t.Fatalf("doctor sent the rogue cluster a token on %v", got)
	}
	rows := statusRows(t, se)
	if !rows["e2e"].Approved || rows["rogue"].Approved {
		t.Errorf("status approvals: %+v", rows)
	}
	// The approved cluster still works with the same login.
	if r := se.Kubectl(ctx, "--context", "e2e", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); r.Err != nil || r.Stdout != stack.Reader.Email {
		t.Fatalf("cluster e2e after the rogue import: %v %q\n%s", r.Err, r.Stdout, r.Stderr)
	}
}

// onTerminal runs the plugin with stdin and stderr on a pseudo-terminal
// (util-linux script), typing input, and returns what the terminal showed.
func onTerminal(t *testing.T, se *stack.Session, input string, args ...string) (string, error) {
	t.Helper()
	line := "exec " + shellQuote(se.Plugin)
	for _, a := range args {
		line += " " + shellQuote(a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", line, "/dev/null")
	cmd.Env, cmd.Dir = se.Environ(), se.Dir
	// Type the answer once the prompt is on the screen, as a person does:
	// input sent before the program reads it can be swallowed by whatever
	// reads the terminal first (bubbletea's init queries the terminal).
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &promptWatcher{prompt: "[y/N]", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer stdin.Close()
		select {
		case <-out.seen:
			_, _ = io.WriteString(stdin, input)
		case <-ctx.Done():
		}
	}()
	err = cmd.Wait()
	return out.String(), err
}

// promptWatcher collects a terminal's output and closes seen once prompt
// has appeared in it.
type promptWatcher struct {
	mu     sync.Mutex
	buf    strings.Builder
	prompt string
	seen   chan struct{}
	once   sync.Once
}

func (w *promptWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.prompt) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *promptWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestSSOFleetOneConfirmationOneLogin: a fleet of clusters from one
// profile, approved in one confirmation on a terminal that shows the
// issuer and every server and pin, needs exactly one browser login;
// status shows the approvals and logout forgets them.
func TestSSOFleetOneConfirmationOneLogin(t *testing.T) {
	se, err := shared.NewSession(t.TempDir(), "", stack.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pin := strings.TrimSpace(se.Securekapi(ctx, "pin", shared.EndpointURL, "--tls-server-name", stack.EndpointServerName).Stdout)
	viaName := strings.Replace(shared.EndpointURL, "127.0.0.1", "localhost", 1)
	fleet := []profile.Cluster{
		ssoCluster("fleet-a", shared.EndpointURL, shared.EnterpriseCA.CertPEM, pin),
		ssoCluster("fleet-b", viaName, shared.EnterpriseCA.CertPEM, pin),
		ssoCluster("fleet-c", shared.EndpointURL, shared.EnterpriseCA.CertPEM, pin),
	}
	for i := range fleet {
		fleet[i].TLSServerName = stack.EndpointServerName
	}
	fleet[2].Namespace = "kube-system"
	shown, err := onTerminal(t, se, "y\n", "import", writeProfile(t, fleet...))
	if err != nil {
		t.Fatalf("import on a terminal: %v\n%s", err, shown)
	}
	for _, want := range []string{"issuer " + shared.IssuerURL, "client " + shared.ClientID, "fleet-a: server " + shared.EndpointURL,
		"fleet-b: server " + viaName, "fleet-c: server", "pin " + pin, "Approved fleet-a, fleet-b, fleet-c"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, shown)
		}
	}
	if n := strings.Count(shown, "[y/N]"); n != 1 {
		t.Errorf("asked %d times, want one confirmation for the profile:\n%s", n, shown)
	}
	for _, c := range fleet {
		r := se.Securekapi(ctx, "use", c.Name)
		if r.Err != nil || strings.Contains(r.Stderr, "Not approved") || strings.Contains(r.Stderr, "[y/N]") {
			t.Fatalf("use %s: %v\n%s", c.Name, r.Err, r.Stderr)
		}
	}
	// Off a terminal, with no --approve: the clusters are approved already.
	r := se.Securekapi(ctx, "login", "fleet-a", "--browser-command", se.BrowserCommand())
	if r.Err != nil || strings.Contains(r.Stderr, "Not approved") {
		t.Fatalf("login fleet-a: %v\n%s", r.Err, r.Stderr)
	}
	for _, c := range fleet {
		r := se.Kubectl(ctx, "--context", c.Name, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if r.Err != nil || r.Stdout != stack.Reader.Email {
			t.Fatalf("kubectl --context %s auth whoami: %v %q\n%s", c.Name, r.Err, r.Stdout, r.Stderr)
		}
	}
	if n := se.BrowserLogins(); n != 1 {
		t.Fatalf("%d browser logins for a fleet of %d clusters, want 1", n, len(fleet))
	}
	rows := statusRows(t, se)
	for _, c := range fleet {
		if row := rows[c.Name]; !row.Approved || !row.LoggedIn {
			t.Errorf("status %s: %+v, want logged in and approved", c.Name, row)
		}
	}

	// logout NAME forgets that cluster's approvals (fleet-b's server),
	// and the login, which the fleet shares.
	if r := se.Securekapi(ctx, "logout", "fleet-b"); r.Err != nil || !strings.Contains(r.Stderr, "Forgot the approval of") {
		t.Fatalf("logout fleet-b: %v\n%s", r.Err, r.Stderr)
	}
	rows = statusRows(t, se)
	if rows["fleet-b"].Approved || !rows["fleet-a"].Approved || !rows["fleet-c"].Approved {
		t.Errorf("status after logout fleet-b: %+v", rows)
	}
	// A new login for fleet-a (approved) serves fleet-a, not fleet-b.
	if r := se.Securekapi(ctx, "login", "fleet-a", "--browser-command", se.BrowserCommand()); r.Err != nil {
		t.Fatalf("login fleet-a again: %v\n%s", r.Err, r.Stderr)
	}
	if r := se.Kubectl(ctx, "--context", "fleet-b", "get", "ns"); r.Err == nil || !strings.Contains(r.Stderr, "kubectl securekapi login fleet-b") {
		t.Fatalf("kubectl fleet-b after its approval was forgotten: %v\n%s", r.Err, r.Stderr)
	}
	if r := se.Securekapi(ctx, "logout", "--all"); r.Err != nil {
		t.Fatalf("logout --all: %v\n%s", r.Err, r.Stderr)
	}
	for name, row := range statusRows(t, se) {
		if row.Approved || row.LoggedIn {
			t.Errorf("status %s after logout --all: %+v", name, row)
		}
	}
	var file struct {
		Approvals []json.RawMessage `json:"approvals"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(se.Dir, "cache", "approvals.json"))), &file); err != nil || len(file.Approvals) != 0 {
		t.Fatalf("approvals file after logout --all: %v %+v", err, file)
	}
}
