package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

// TestStanzaCannotStealTheRefresh is issue #23's attack 3 with the real
// Dex. Alice logged in and approved her cluster, trusting the issuer
// through the Dex CA. The attacker's stanza keeps her issuer, client,
// server and pins, but trusts the issuer through the attacker's CA,
// routes the issuer through the attacker's proxy (HTTPS_PROXY in the
// stanza's env), which terminates TLS with a certificate from that CA and
// passes every request on to the real Dex, and forces a refresh
// (--expiry-margin 24h). The issuer is a Dex on a non-loopback address of
// this machine: Go never proxies loopback, and a real IdP is remote.
// kube-apiserver does not trust that Dex, so the honest control ends at
// the API server's 401, after the plugin has refreshed.
//
// On d9086b3's binaries (the approval did not cover how the issuer is
// trusted) the attacker's proxy read 12 refresh requests
// (grant_type=refresh_token&refresh_token=...) from one kubectl call in
// each attack; the control passed there too.
func TestStanzaCannotStealTheRefresh(t *testing.T) {
	ctx := context.Background()
	host, err := stack.NonLoopbackIPv4()
	if err != nil {
		t.Fatal(err)
	}
	issuer, stop, err := shared.StartDexOn(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	dexHost := strings.TrimSuffix(strings.TrimPrefix(issuer, "https://"), "/dex")
	se := newSessionWith(t, stack.Reader, shared.EndpointURL, issuer, "email", "groups")
	browserLogin(t, se)

	attackerCA, err := stack.NewCA("Attacker CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := attackerCA.Issue(host.String(), stack.LeafOptions{IPs: []net.IP{host}})
	if err != nil {
		t.Fatal(err)
	}
	attackerCAFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(attackerCAFile, attackerCA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// The refresh is forced, and a proxy in the stanza's env carries it.
	viaProxy := func(proxy, caFile string, env ...clientcmdapi.ExecEnvVar) func(*clientcmdapi.ExecConfig) {
		return func(e *clientcmdapi.ExecConfig) {
			e.Args = setArg(setArg(e.Args, "--oidc-ca-file", caFile), "--expiry-margin", "24h")
			e.Env = append(append(e.Env, clientcmdapi.ExecEnvVar{Name: "HTTPS_PROXY", Value: proxy},
				clientcmdapi.ExecEnvVar{Name: "NO_PROXY", Value: ""}), env...)
		}
	}
	cases := []struct {
		name   string
		caFile string
		env    []clientcmdapi.ExecEnvVar
		want   string // in kubectl's error
	}{{
		// client-go puts the stanza's env into the plugin's environment,
		// so /proc/self/environ holds the attacker's PEM.
		name: "attacker CA through /proc/self/environ", caFile: "/proc/self/environ",
		env:  []clientcmdapi.ExecEnvVar{{Name: "CA", Value: "\n" + string(attackerCA.CertPEM)}},
		want: "--oidc-ca-file: /proc/self/environ is under /proc",
	}, {
		name: "attacker CA in a plain file", caFile: attackerCAFile,
		want: "but not as this kubeconfig has it: the approval trusts the issuer by ca ",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mitm := startForwardingAttacker(t, leaf, shared.DexCA.CertPEM)
			cfg := clientcmdapi.NewConfig()
			cfg.AuthInfos["securekapi-e2e"] = usersStanza(t, se, viaProxy(mitm.URL(), tc.caFile, tc.env...))
			r := prependKubeconfig(t, se, cfg).Kubectl(ctx, "get", "ns", "--request-timeout=30s")
			if n := mitm.bodiesWith("refresh_token"); n > 0 {
				t.Fatalf("the attacker's proxy read %d refresh requests", n)
			}
			if got := mitm.tokens(); len(got) > 0 {
				t.Fatalf("the attacker's proxy received %d credentials: %v", len(got), got)
			}
			if r.Err == nil || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("kubectl did not fail with the refusal (want %q): err=%v\n%s%s", tc.want, r.Err, r.Stdout, r.Stderr)
			}
		})
	}

	// Proxies stay usable: an honest one tunnels the refresh, whose TLS is
	// verified against the approved trust, end to end.
	t.Run("control: an honest proxy and the approved trust", func(t *testing.T) {
		fwd := startForwarder(t, dexHost)
		cfg := clientcmdapi.NewConfig()
		cfg.AuthInfos["securekapi-e2e"] = usersStanza(t, se, viaProxy("http://"+fwd.Addr, shared.DexCAFile))
		s := prependKubeconfig(t, se, cfg)
		// One request (no discovery): each call refreshes and writes the
		// keyring, and fewer writes meet gnome-keyring's abort less often.
		r := s.Kubectl(ctx, "get", "--raw", "/api", "--request-timeout=30s")
		if r.Err != nil && gnomeKeyringLostLogin(r.Stderr) {
			// The refresh rotated the refresh token but could not keep
			// the new one: log in again, then retry once.
			t.Logf("gnome-keyring failed the write (GNOME/gnome-keyring#190); logging in and trying once more. The shared daemon's log:\n%s", keyringLogTail())
			browserLogin(t, se)
			r = s.Kubectl(ctx, "get", "--raw", "/api", "--request-timeout=30s")
		}
		if seen := fwd.Requests(); !onlyTo(seen, dexHost) {
			t.Fatalf("the proxy saw %v, want the refresh to CONNECT to %s\n%s", seen, dexHost, r.Stderr)
		}
		// The plugin released the refreshed token (a stale one is never
		// released); the API server, which trusts only the stack's own
		// Dex, refused it.
		if r.Err == nil || !strings.Contains(r.Stderr, "Unauthorized") || strings.Contains(r.Stderr, "securekapi") {
			t.Fatalf("want the API server's 401 after a refresh through the proxy: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
		}
	})
}
