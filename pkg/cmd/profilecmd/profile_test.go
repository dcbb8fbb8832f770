package profilecmd

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

func profileArgs(name, url, caFile string, extra ...string) []string {
	return append([]string{name, "--server", url, "--tls-server-name", cmdtest.TestHost, "--ca-file", caFile,
		"--oidc-issuer-url", "https://login.example.com", "--oidc-client-id", "kubectl"}, extra...)
}

func TestProfilePinsTheVerifiedCAs(t *testing.T) {
	url, root, intermediate := cmdtest.Endpoint(t)
	dir := t.TempDir()
	caFile := testpki.WritePEM(t, "root.pem", root.CertPEM)

	out, errOut, err := cmdtest.Run(t, "", NewCmdProfile, profileArgs("cluster-a", url, caFile, "--oidc-extra-scope", "groups", "-n", "team")...)
	if err != nil {
		t.Fatalf("profile: %v\n%s", err, errOut)
	}
	p, err := profile.Parse([]byte(out))
	if err != nil {
		t.Fatalf("stdout does not parse as a profile: %v\n%s", err, out)
	}
	c := p.Clusters[0]
	wantPins := []string{string(trust.PinFor(root.Cert)), string(trust.PinFor(intermediate.Cert))}
	if strings.Join(c.Pins, ",") != strings.Join(wantPins, ",") {
		t.Errorf("pins = %v, want root then intermediate %v", c.Pins, wantPins)
	}
	cas, _ := trust.ParsePEMCertificates(c.CertificateAuthorityData)
	if len(cas) != 2 || !cas[0].Equal(root.Cert) || !cas[1].Equal(intermediate.Cert) {
		t.Errorf("certificateAuthorityData holds %d certificates, want root and intermediate", len(cas))
	}
	if c.Name != "cluster-a" || c.TLSServerName != cmdtest.TestHost || c.Namespace != "team" || c.OIDC.ExtraScopes[0] != "groups" {
		t.Errorf("cluster = %+v", c)
	}

	t.Run("untrusted chain is refused", func(t *testing.T) {
		other := testpki.WritePEM(t, "other.pem", cmdtest.NewPair(t, nil, "other").CertPEM)
		out, _, err := cmdtest.Run(t, "", NewCmdProfile, profileArgs("cluster-a", url, other)...)
		if err == nil || out != "" || !strings.Contains(err.Error(), "pass --ca-file with the CA that issues") {
			t.Fatalf("err = %v, out %q", err, out)
		}
	})

	t.Run("append and publish", func(t *testing.T) {
		pub := filepath.Join(dir, "www")
		for _, name := range []string{"cluster-a", "cluster-b", "cluster-a"} {
			if _, errOut, err := cmdtest.Run(t, "", NewCmdProfile, profileArgs(name, url, caFile, "--publish-dir", pub, "--append")...); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, errOut)
			}
		}
		file := filepath.Join(pub, PublishedProfileName)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.Parse(data)
		if err != nil || strings.Join(p.Names(), ",") != "cluster-a,cluster-b" {
			t.Fatalf("published profile: %v %v", p, err)
		}
		// Windows has no Unix modes.
		if st, _ := os.Stat(file); runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode().Perm())
		}
		// Without --append, a file holding other clusters is not replaced.
		_, _, err = cmdtest.Run(t, "", NewCmdProfile, profileArgs("cluster-c", url, caFile, "-o", file)...)
		if err == nil || !strings.Contains(err.Error(), "pass --append") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("bad flags", func(t *testing.T) {
		for _, args := range [][]string{
			profileArgs("Bad_Name", url, caFile),
			profileArgs("c", "http://"+strings.TrimPrefix(url, "https://"), caFile),
			profileArgs("c", url, caFile, "--append"),
			profileArgs("c", url, caFile, "-o", "x.yaml", "--publish-dir", dir),
			{"c", "--server", url, "--oidc-client-id", "kubectl"},
		} {
			if _, _, err := cmdtest.Run(t, "", NewCmdProfile, args...); err == nil {
				t.Errorf("profile %v succeeded", args)
			}
		}
	})
}
