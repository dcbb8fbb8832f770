package expose

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
)

// haproxyBinary finds the real haproxy. Debian puts it in /usr/sbin, which
// is not on every user's PATH.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	if os.Getenv("SECUREKAPI_ALLOW_MISSING_HAPROXY") == "1" {
		t.Skip("haproxy not installed and SECUREKAPI_ALLOW_MISSING_HAPROXY=1")
	}
	t.Fatal("haproxy not found: install it (apt-get install -y haproxy), or set SECUREKAPI_ALLOW_MISSING_HAPROXY=1 to skip")
	return ""
}

// TestHAProxyAcceptsConfig has the real haproxy parse the generated config
// with real certificate files, so every keyword is one it knows.
func TestHAProxyAcceptsConfig(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs HAProxy, a Unix program, on files at this machine's paths")
	}
	bin := haproxyBinary(t)
	dir := t.TempDir()
	enterprise := testpki.Root(t, "test CA")
	endpoint := testpki.Leaf(t, enterprise, "kapi.example.com")
	cluster := testpki.Root(t, "test CA")

	o := haproxyOptions(t)
	o.ClusterCAPEM = cluster.CertPEM
	o.CertFile = filepath.Join(dir, "kapi.pem")
	o.CAFile = filepath.Join(dir, "cluster-ca.crt")
	o.Upstreams = []string{"127.0.0.1:6443", "[::1]:6443"}
	chain := append(append(append([]byte{}, endpoint.CertPEM...), enterprise.CertPEM...), endpoint.KeyPEM...)
	generated, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := generated.Text
	cfgFile := filepath.Join(dir, "haproxy.cfg")
	for path, data := range map[string][]byte{o.CertFile: chain, o.CAFile: o.ClusterCAPEM, cfgFile: cfg} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "-c", "-f", cfgFile).CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c rejected the config: %v\n%s\n%s", err, out, cfg)
	}
}
