package cmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/internal/testjwt"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
)

// gitlabJWT is a GitLab-shaped CI token (unsigned: the credential path
// reads claims; the API server verifies the signature).
func gitlabJWT(aud string, exp time.Time) string {
	return testjwt.Unsigned(map[string]any{"iss": "https://gitlab.example.com", "sub": "project_path:org/app:ref_type:branch:ref:main",
		"aud": aud, "exp": exp.Unix(), "project_path": "org/app"})
}

// ciCredential runs `credential` for a GitLab job whose id_tokens put a
// token in KAPI_ID_TOKEN, with kubectl's cluster info execInfo.
type ciCredential struct {
	t        *testing.T
	cacheDir string
	env      map[string]string
	args     []string
}

func newCICredential(t *testing.T, pin string) *ciCredential {
	dir := t.TempDir()
	c := &ciCredential{t: t, cacheDir: filepath.Join(dir, "cache"),
		args: []string{"credential", "--cluster-name", "cluster-a", "--grant", "ci-token", "--ci-token-source", "gitlab", "--ci-token-var", "KAPI_ID_TOKEN",
			"--oidc-issuer-url", "https://gitlab.example.com", "--oidc-client-id", "https://kapi.example.com",
			"--server", "https://kapi.example.com", "--pin", pin}}
	c.env = map[string]string{"HOME": dir, "SECUREKAPI_CACHE_DIR": c.cacheDir, "CI": "true"}
	return c
}

// approveCI approves the cluster for the CI grant the args name, as
// `use cluster-a --ci gitlab --approve` does.
func (c *ciCredential) approveCI() {
	c.t.Helper()
	var a cmdutil.AccessFlags
	if _, err := a.ParseExecArgs(c.args[1:]); err != nil {
		c.t.Fatal(err)
	}
	b, err := a.Binding()
	if err != nil {
		c.t.Fatal(err)
	}
	target := b.ApprovalTarget()
	store := &binding.ApprovalStore{Path: binding.ApprovalsPathIn(c.cacheDir)}
	if err := store.Update(func(f *binding.ApprovalsFile) error {
		f.Approve(binding.ApprovalFor(a.Key().ID(), target))
		return nil
	}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *ciCredential) run(server string, caPEM []byte) (stdout, stderr string, code int) {
	c.env["KUBERNETES_EXEC_INFO"] = fmt.Sprintf(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":%q,"certificate-authority-data":%q}}}`,
		server, base64.StdEncoding.EncodeToString(caPEM))
	var out, errOut bytes.Buffer
	g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	g.Getenv = func(k string) string { return c.env[k] }
	code = execute(c.t.Context(), g, c.args)
	return out.String(), errOut.String(), code
}

// TestCICredentialIsBoundToItsCluster: the CI's token goes to kubectl for
// the bound server under the pinned CA, and to nothing else: an attacker's
// kubeconfig that copies the exec stanza but points at its own server, or
// trusts its own CA, gets a refusal and no token, and an unapproved
// cluster gets none either. The token is never in stderr.
func TestCICredentialIsBoundToItsCluster(t *testing.T) {
	ca := cmdtest.NewPair(t, nil, "enterprise CA")
	attackerCA := cmdtest.NewPair(t, nil, "attacker CA")
	c := newCICredential(t, cmdtest.PinOf(ca))
	token := gitlabJWT("https://kapi.example.com", time.Now().Add(5*time.Minute))
	c.env["KAPI_ID_TOKEN"] = token

	out, stderr, code := c.run("https://kapi.example.com", ca.CertPEM)
	if code == 0 || !strings.Contains(stderr, "has not been approved") || out != "" {
		t.Fatalf("unapproved: exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
	c.approveCI()

	for name, tc := range map[string]struct {
		server string
		ca     []byte
	}{
		"attacker's server": {"https://kapi.attacker.example", ca.CertPEM},
		"attacker's CA":     {"https://kapi.example.com", attackerCA.CertPEM},
	} {
		out, stderr, code := c.run(tc.server, tc.ca)
		if code == 0 || out != "" || !strings.Contains(stderr, "refusing to release a token") {
			t.Errorf("%s: exit %d, stdout %q, stderr:\n%s", name, code, out, stderr)
		}
		if strings.Contains(stderr, token[:40]) {
			t.Errorf("%s: the CI token reached stderr", name)
		}
	}

	out, stderr, code = c.run("https://kapi.example.com", ca.CertPEM)
	if code != 0 {
		t.Fatalf("bound cluster: exit %d:\n%s", code, stderr)
	}
	var cred struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &cred); err != nil || cred.Status.Token != token {
		t.Fatalf("stdout is not the ExecCredential with the CI token: %v\n%s", err, out)
	}
	if strings.Contains(stderr, token[:40]) {
		t.Errorf("the CI token reached stderr:\n%s", stderr)
	}
	files, _ := filepath.Glob(filepath.Join(c.cacheDir, "tokens", "*"))
	if len(files) != 1 {
		t.Errorf("the CI token was not cached in the file store: %v", files)
	}
}

// TestCICredentialErrorsNameTheSetting: a missing variable, an expired
// token and a wrong audience each fail naming what to fix, print nothing
// on stdout, and never quote the token.
func TestCICredentialErrorsNameTheSetting(t *testing.T) {
	ca := cmdtest.NewPair(t, nil, "enterprise CA")
	c := newCICredential(t, cmdtest.PinOf(ca))
	c.approveCI()
	for name, tc := range map[string]struct {
		token string
		want  []string
	}{
		"missing":        {"", []string{"KAPI_ID_TOKEN is not set", "id_tokens"}},
		"expired":        {gitlabJWT("https://kapi.example.com", time.Now().Add(-time.Minute)), []string{"$KAPI_ID_TOKEN expired at"}},
		"wrong audience": {gitlabJWT("https://gitlab.example.com", time.Now().Add(5*time.Minute)), []string{"expects https://kapi.example.com", "`aud: https://kapi.example.com`"}},
	} {
		c.env["KAPI_ID_TOKEN"] = tc.token
		out, stderr, code := c.run("https://kapi.example.com", ca.CertPEM)
		if code == 0 || out != "" {
			t.Errorf("%s: exit %d, stdout %q", name, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", name, w, stderr)
			}
		}
		if tc.token != "" && strings.Contains(stderr, tc.token[:40]) {
			t.Errorf("%s: the token reached stderr", name)
		}
	}
}

// TestCILoginEscapesTheClaimsItNames: `login` in a CI job names whose token
// it got; the subject comes from the CI's token, outside text, and reaches
// the job's log (or a terminal) only as visible escapes.
func TestCILoginEscapesTheClaimsItNames(t *testing.T) {
	ca := cmdtest.NewPair(t, nil, "enterprise CA")
	c := newCICredential(t, cmdtest.PinOf(ca))
	c.approveCI()
	c.env["KAPI_ID_TOKEN"] = testjwt.Unsigned(map[string]any{"iss": "https://gitlab.example.com", "aud": "https://kapi.example.com",
		"sub": "project_path:org/app\x1b]0;owned\x07\x1b[2J", "exp": time.Now().Add(5 * time.Minute).Unix()})
	var out, errOut bytes.Buffer
	g := cmdutil.NewFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	g.Getenv = func(k string) string { return c.env[k] }
	if code := execute(t.Context(), g, append([]string{"login"}, c.args[1:]...)); code != 0 {
		t.Fatalf("login: exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `subject: project_path:org/app\x1b]0;owned\x07\x1b[2J`) || strings.ContainsAny(errOut.String(), "\x1b\x07") {
		t.Errorf("login's message:\n%q", errOut.String())
	}
}
