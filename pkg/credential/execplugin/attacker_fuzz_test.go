package execplugin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
)

// FuzzAttackerKubeconfig is issue #23's property: start from an approved
// cluster's real stanza and cluster entry, let the fuzzer mutate the exec
// args, the environment and the cluster fields as whoever writes the
// kubeconfig may (server, tls-server-name, CA data or a CA file, proxy-url,
// insecure, the OIDC CA, the cache directory, the margin, the grant), and
// require that the token is either refused or released only where the
// approval says: the approved server, verified as the approved name,
// trusting only the pinned CA as inline data. (A refresh is the full CLI's,
// whose approval check is the same function; its own test is
// TestStanzaCannotRedirectTheRefresh.)
func FuzzAttackerKubeconfig(f *testing.F) {
	h := newHarness(f)
	tok := idToken(issuer, client, now.Add(10*time.Minute))
	h.put(f, tok)
	rogueCA, roguePin := ca(f)
	dir := f.TempDir()
	attackerBundle := filepath.Join(dir, "attacker-ca.pem")
	if err := os.WriteFile(attackerBundle, rogueCA, 0o600); err != nil {
		f.Fatal(err)
	}
	kubeconfigWithCAFile := filepath.Join(dir, "kubeconfig-cafile")
	if err := os.WriteFile(kubeconfigWithCAFile, []byte("clusters:\n- cluster:\n    server: "+server+"\n    certificate-authority: /tmp/ca.pem\n  name: e2e\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	forged := filepath.Join(dir, "forged")
	if err := os.MkdirAll(forged, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(forged, "approvals.json"), []byte(`{"version":1,"approvals":[]}`), 0o644); err != nil {
		f.Fatal(err)
	}

	servers := []string{server, "https://kapi.example.com:443", "https://rogue.example.net", "https://KAPI.example.com:6443/", "http://kapi.example.com:6443"}
	names := []string{"", "kapi.example.com", "internal.example.com", "rogue.example.net"}
	caDatas := [][]byte{h.caPEM, rogueCA, append(append([]byte{}, h.caPEM...), rogueCA...), nil}
	proxies := []string{"", "http://127.0.0.1:1", "socks5://127.0.0.1:1"}
	pins := []string{h.pin, roguePin}
	oidcCAs := []string{"", attackerBundle, "/proc/self/environ", "/dev/stdin"}
	cacheDirs := []string{h.dir, forged, "relative/dir"}
	kubeconfigs := []string{"", kubeconfigWithCAFile}

	f.Add(uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), false, uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), "")
	f.Add(uint8(0), uint8(2), uint8(0), uint8(1), uint8(0), false, uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), "--tls-server-name internal.example.com")
	f.Add(uint8(2), uint8(3), uint8(1), uint8(0), uint8(1), false, uint8(1), uint8(0), uint8(1), uint8(0), uint8(0), "")
	f.Add(uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), false, uint8(0), uint8(2), uint8(0), uint8(1), uint8(1), "--expiry-margin 1s")
	f.Fuzz(func(t *testing.T, srv, name, caData, proxy, pinChoice uint8, insecure bool, stanzaServer, oidcCA, cacheDir, kubeconfig, stanzaName uint8, extra string) {
		pick := func(n uint8, of int) int { return int(n) % of }
		clusterServer := servers[pick(srv, len(servers))]
		clusterName := names[pick(name, len(names))]
		clusterCA := caDatas[pick(caData, len(caDatas))]
		cluster := map[string]any{"server": clusterServer, "certificate-authority-data": base64.StdEncoding.EncodeToString(clusterCA)}
		if clusterName != "" {
			cluster["tls-server-name"] = clusterName
		}
		if p := proxies[pick(proxy, len(proxies))]; p != "" {
			cluster["proxy-url"] = p
		}
		if insecure {
			cluster["insecure-skip-tls-verify"] = true
		}
		info, _ := json.Marshal(map[string]any{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1",
			"spec": map[string]any{"interactive": false, "cluster": cluster}})

		args := []string{"credential", "--cluster-name", "a", "--oidc-issuer-url", issuer, "--oidc-client-id", client,
			"--oidc-extra-scope", "email", "--server", servers[pick(stanzaServer, len(servers))], "--pin", pins[pick(pinChoice, len(pins))],
			"--token-cache", "file", "--cache-dir", cacheDirs[pick(cacheDir, len(cacheDirs))]}
		if n := names[pick(stanzaName, len(names))]; n != "" {
			args = append(args, "--tls-server-name", n)
		}
		if c := oidcCAs[pick(oidcCA, len(oidcCAs))]; c != "" {
			args = append(args, "--oidc-ca-file", c)
		}
		args = append(args, strings.Fields(extra)...)
		kc := kubeconfigs[pick(kubeconfig, len(kubeconfigs))]
		caller := &callerconfig.Caller{Getenv: func(k string) string {
			if k == "KUBECONFIG" {
				return kc
			}
			return ""
		}}

		var out strings.Builder
		ok, _ := Answer(Process{Args: args, Stdout: &out, Stderr: &strings.Builder{}, Now: func() time.Time { return now },
			Caller: func() *callerconfig.Caller { return caller },
			Getenv: func(k string) string {
				if k == "KUBERNETES_EXEC_INFO" {
					return string(info)
				}
				return ""
			}})
		if !ok {
			return
		}
		// Released: it must be to exactly what was approved.
		where := fmt.Sprintf("server %s, name %q, CA %d bytes, insecure %v, oidc CA %q, cache %q, kubeconfig %q, args %q",
			clusterServer, clusterName, len(clusterCA), insecure, oidcCAs[pick(oidcCA, len(oidcCAs))], cacheDirs[pick(cacheDir, len(cacheDirs))], kc, args)
		switch {
		case clusterServer != server && clusterServer != "https://KAPI.example.com:6443/":
			t.Fatalf("released to another server: %s", where)
		case clusterName != "" && clusterName != "kapi.example.com":
			t.Fatalf("released for another TLS name: %s", where)
		case string(clusterCA) != string(h.caPEM):
			t.Fatalf("released to a cluster trusting more or other than the pinned CA: %s", where)
		case insecure:
			t.Fatalf("released to an insecure cluster: %s", where)
		case oidcCAs[pick(oidcCA, len(oidcCAs))] != "":
			t.Fatalf("released under an issuer trust never approved: %s", where)
		case cacheDirs[pick(cacheDir, len(cacheDirs))] != h.dir && runtime.GOOS != "windows": // no ACL checks there yet (SECURITY.md)
			t.Fatalf("released from approvals outside the user's own store: %s", where)
		case kc != "":
			t.Fatalf("released to a cluster whose CA comes from a file: %s", where)
		case !strings.Contains(out.String(), tok):
			t.Fatalf("released something other than the token: %s", where)
		}
	})
}
