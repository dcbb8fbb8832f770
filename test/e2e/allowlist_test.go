package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// Issue #23's threat model: the attacker writes the kubeconfig (cluster
// entries, our exec stanza's args and env) but runs no code as the user.
// kubectl 1.35's kuberc credential-plugin allowlist can let such a
// kubeconfig run only kubectl-securekapi; these tests hold that boundary
// with the real kubectl 1.37 (built beside the stack's kube-apiserver) and
// the SDK's kubectl, which has no allowlist.

// allowOnlyUs is the kuberc a careful user writes: kubectl may run
// kubectl-securekapi, found on PATH, and no other credential plugin.
const allowOnlyUs = `apiVersion: kubectl.config.k8s.io/v1beta1
kind: Preference
credentialPluginPolicy: Allowlist
credentialPluginAllowlist:
- command: kubectl-securekapi
`

// withKuberc is se with KUBERC at a file holding content, or "off".
func withKuberc(t *testing.T, se *stack.Session, content string) *stack.Session {
	t.Helper()
	value := content
	if content != "off" {
		value = filepath.Join(t.TempDir(), "kuberc")
		if err := os.WriteFile(value, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := *se
	s.Env = append(append([]string{}, se.Env...), "KUBERC="+value)
	return &s
}

// attackerStanza makes the session's KUBECONFIG start with a file that
// redefines only the user securekapi-e2e, with the attacker's exec stanza:
// kubectl takes the first file's entry and keeps the cluster and context.
func attackerStanza(t *testing.T, se *stack.Session, command string, args ...string) *stack.Session {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.AuthInfos["securekapi-e2e"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1", Command: command, Args: args,
		InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode, ProvideClusterInfo: true,
	}}
	return prependKubeconfig(t, se, cfg)
}

// snapshot is the user's own state a stanza must not touch.
func snapshot(t *testing.T, se *stack.Session) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range []string{"kubeconfig", "config/clusters.yaml"} {
		data, err := os.ReadFile(filepath.Join(se.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	return files
}

// TestExecStanzaRunsOnlyCredential: a stanza naming our plugin with any
// command but credential (shell and run with `sh -c 'touch MARKER'`, a
// login whose browser is `sh`, logout, use, add) is refused by the small
// program itself, which hands nothing over: the marker never appears,
// kubectl gets no token, and the user's kubeconfig, registry and login stay
// as they were. Both with the SDK's kubectl (no allowlist) and with kubectl
// 1.37 under a kuberc allowing only kubectl-securekapi, the boundary #23 is
// about. A credential stanza whose login would open --browser-command is
// refused too.
func TestExecStanzaRunsOnlyCredential(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	before := snapshot(t, se)
	pin := se.Securekapi(ctx, "pin", se.Stack.EndpointURL, "--tls-server-name", stack.EndpointServerName)
	if pin.Err != nil {
		t.Fatalf("pin: %v\n%s", pin.Err, pin.Stderr)
	}
	markers := t.TempDir()
	marker := func(name string) string { return filepath.Join(markers, "MARKER-"+name) }
	stanzas := map[string][]string{
		"shell":  {"shell", "e2e", "--", "sh", "-c", "touch " + marker("shell")},
		"run":    {"run", "e2e", "--", "sh", "-c", "touch " + marker("run")},
		"login":  {"login", "e2e", "--login-timeout", "5s", "--browser-command", "sh -c touch${IFS}" + marker("login")},
		"logout": {"logout", "--all"},
		"use":    {"use", "e2e"},
		"add": {"add", "evil", "--server", se.Stack.EndpointURL, "--tls-server-name", stack.EndpointServerName,
			"--pin", strings.TrimSpace(pin.Stdout), "--oidc-issuer-url", se.Stack.IssuerURL, "--oidc-client-id", se.Stack.ClientID,
			"--oidc-ca-file", se.Stack.DexCAFile},
	}
	clients := map[string]struct {
		kubectl string
		kuberc  string
	}{
		"kubectl on PATH, no allowlist":  {"kubectl", "off"},
		"kubectl 1.37, kuberc allowlist": {se.Stack.ToolsKubectl(), allowOnlyUs},
	}
	for clientName, c := range clients {
		for name, args := range stanzas {
			t.Run(clientName+"/"+name, func(t *testing.T) {
				s := withKuberc(t, attackerStanza(t, se, "kubectl-securekapi", args...), c.kuberc)
				r := s.Run(ctx, c.kubectl, "auth", "whoami", "-o", "json")
				if r.Err == nil || strings.Contains(r.Stdout, stack.Reader.Email) {
					t.Fatalf("kubectl with the stanza %q: err %v, stdout %q; want no token", args, r.Err, r.Stdout)
				}
				if want := `refusing "` + args[0] + `" from a kubeconfig exec stanza`; !strings.Contains(r.Stderr, want) {
					t.Errorf("kubectl's stderr lacks %q:\n%s", want, r.Stderr)
				}
				if strings.Contains(r.Stderr, "the full securekapi CLI") {
					t.Errorf("the small program tried to hand the call over:\n%s", r.Stderr)
				}
			})
		}
		t.Run(clientName+"/credential with a browser command", func(t *testing.T) {
			args := append(execArgs(t, se), "--browser-command", "sh -c touch${IFS}"+marker("credential"))
			s := withKuberc(t, attackerStanza(t, se, "kubectl-securekapi", args...), c.kuberc)
			r := s.Run(ctx, c.kubectl, "auth", "whoami", "-o", "json")
			if r.Err == nil || !strings.Contains(r.Stderr, "refusing --browser-command in a kubeconfig exec stanza") {
				t.Errorf("kubectl with --browser-command in the stanza: err %v\n%s", r.Err, r.Stderr)
			}
		})
	}
	for name := range stanzas {
		if _, err := os.Stat(marker(name)); err == nil {
			t.Errorf("the %s stanza ran its command", name)
		}
	}
	if _, err := os.Stat(marker("credential")); err == nil {
		t.Error("the credential stanza ran its --browser-command")
	}
	for name, data := range snapshot(t, se) {
		if !bytes.Equal(data, before[name]) {
			t.Errorf("a stanza changed the user's %s", name)
		}
	}
	if w := kubectlWhoami(t, se); w.Status.UserInfo.Username != stack.Reader.Email {
		t.Errorf("after the stanzas, the user's own kubectl is %q; want the login kept", w.Status.UserInfo.Username)
	}
}

// TestKubercAllowlistIsABoundary: with kubectl 1.37 and a kuberc whose
// Allowlist names only kubectl-securekapi, the user's own stanza gets its
// token; a stanza naming any other command (sh) is refused by kubectl and
// runs nothing (and runs without the allowlist, so the refusal is the
// allowlist's); a stanza naming ours with hostile args gets nothing and runs
// nothing.
func TestKubercAllowlistIsABoundary(t *testing.T) {
	se := newSession(t, stack.Reader)
	browserLogin(t, se)
	ctx := context.Background()
	kubectl137 := se.Stack.ToolsKubectl()
	if r := se.Run(ctx, kubectl137, "version", "--client"); r.Err != nil || !strings.Contains(r.Stdout, "v1.37.") {
		t.Fatalf("%s version --client: %v\n%s%s", kubectl137, r.Err, r.Stdout, r.Stderr)
	}
	allowlisted := withKuberc(t, se, allowOnlyUs)

	if r := allowlisted.Run(ctx, kubectl137, "auth", "whoami", "-o", "json"); r.Err != nil || !strings.Contains(r.Stdout, stack.Reader.Email) {
		t.Fatalf("kubectl 1.37 with the allowlist and the user's own stanza: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}

	dir := t.TempDir()
	shMarker := filepath.Join(dir, "MARKER-sh")
	r := attackerStanza(t, allowlisted, "sh", "-c", "touch "+shMarker).Run(ctx, kubectl137, "auth", "whoami")
	if r.Err == nil || !strings.Contains(r.Stderr, "is not permitted by the credential plugin allowlist") {
		t.Errorf("kubectl 1.37 with an sh stanza under the allowlist: err %v\n%s", r.Err, r.Stderr)
	}
	if _, err := os.Stat(shMarker); err == nil {
		t.Fatal("kubectl ran the sh stanza despite the allowlist")
	}
	// The control: without the allowlist kubectl runs that stanza.
	control := filepath.Join(dir, "MARKER-sh-without-allowlist")
	attackerStanza(t, withKuberc(t, se, "off"), "sh", "-c", "touch "+control).Run(ctx, kubectl137, "auth", "whoami")
	if _, err := os.Stat(control); err != nil {
		t.Fatalf("without the allowlist kubectl 1.37 did not run the sh stanza either (%v): the test proves nothing", err)
	}

	ourMarker := filepath.Join(dir, "MARKER-shell")
	r = attackerStanza(t, allowlisted, "kubectl-securekapi", "shell", "e2e", "--", "sh", "-c", "touch "+ourMarker).Run(ctx, kubectl137, "auth", "whoami", "-o", "json")
	if r.Err == nil || strings.Contains(r.Stdout, stack.Reader.Email) || !strings.Contains(r.Stderr, `refusing "shell" from a kubeconfig exec stanza`) {
		t.Errorf("kubectl 1.37 with our plugin running shell under the allowlist: err %v, stdout %q\n%s", r.Err, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(ourMarker); err == nil {
		t.Fatal("the allowlisted plugin ran the stanza's command")
	}
}
