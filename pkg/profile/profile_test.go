package profile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const pinA = "sha256:" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

const valid = `apiVersion: securekapi.io/v1alpha1
kind: AccessProfile
clusters:
- name: cluster-a
  server: https://kapi.example.com
  tlsServerName: kapi.example.com
  pins: [` + pinA + `]
  oidc:
    issuerURL: https://dex.example.com/dex
    clientID: kubectl
    extraScopes: [groups]
  namespace: team-a
`

func TestParseValid(t *testing.T) {
	p, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := p.Find("cluster-a")
	if !ok || c.OIDC.ClientID != "kubectl" || c.Pins[0] != pinA || c.Namespace != "team-a" {
		t.Fatalf("parsed %+v", p)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]struct{ doc, want string }{
		"unknown field":    {strings.Replace(valid, "namespace: team-a", "namespce: team-a", 1), "unknown field"},
		"unknown version":  {strings.Replace(valid, "v1alpha1", "v9", 1), "apiVersion"},
		"wrong kind":       {strings.Replace(valid, "AccessProfile", "Config", 1), "kind"},
		"http server":      {strings.Replace(valid, "https://kapi", "http://kapi", 1), "server"},
		"bad pin":          {strings.Replace(valid, pinA, "sha1:abcd", 1), "pins"},
		"no trust anchors": {strings.Replace(valid, "  pins: ["+pinA+"]\n", "", 1), "pins or certificateAuthorityData"},
		"no client":        {strings.Replace(valid, "    clientID: kubectl\n", "", 1), "clientID"},
		"bad name":         {strings.Replace(valid, "name: cluster-a", "name: Cluster A", 1), "name"},
		"duplicate":        {valid + strings.SplitN(valid, "clusters:\n", 2)[1], "twice"},
		"not yaml":         {"{{{", "YAML"},
		"reserved param":   {strings.Replace(valid, "    extraScopes: [groups]\n", "    extraScopes: [groups]\n    extraParams: {redirect_uri: \"https://attacker.example/cb\"}\n", 1), `"redirect_uri" is reserved`},
	}
	for name, tc := range cases {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestRegistryRoundTrip(t *testing.T) {
	reg := &Registry{Path: filepath.Join(t.TempDir(), "sub", "clusters.yaml")}
	p, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Update(func(r *Profile) error { r.Upsert(p.Clusters[0]); return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(reg.Path)
	// Windows has no Unix modes.
	if err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("registry file mode: %v %v", st, err)
	}
	got, err := reg.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := got.Find("cluster-a"); !ok || !Equal(*c, p.Clusters[0]) {
		t.Fatalf("round trip lost the cluster: %+v", got)
	}
	// An invalid change is refused and leaves the file as it was.
	before, _ := os.ReadFile(reg.Path)
	err = reg.Update(func(r *Profile) error { r.Clusters[0].Server = "ftp://x"; return nil })
	after, _ := os.ReadFile(reg.Path)
	if err == nil || string(before) != string(after) {
		t.Fatalf("invalid update: err=%v, file changed=%v", err, string(before) != string(after))
	}
}

// FuzzParse: Parse never panics, and whatever it accepts survives a
// Marshal/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("apiVersion: securekapi.io/v1alpha1\nkind: AccessProfile\nclusters: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("marshal accepted profile: %v", err)
		}
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of marshalled profile failed: %v\n%s", err, out)
		}
		if len(p.Clusters) != len(q.Clusters) {
			t.Fatalf("cluster count changed")
		}
		for i := range p.Clusters {
			if !Equal(p.Clusters[i], q.Clusters[i]) {
				t.Fatalf("cluster %d changed in round trip", i)
			}
		}
	})
}

const withCI = valid + `  ci:
  - provider: github
    issuerURL: https://token.actions.githubusercontent.com
    audience: https://kapi.example.com
`

// The CI issuers a profile records reach import intact, and bad ones are
// refused with the field named.
func TestParseCIIssuers(t *testing.T) {
	p, err := Parse([]byte(withCI))
	if err != nil {
		t.Fatal(err)
	}
	if ci := p.Clusters[0].CI; len(ci) != 1 || ci[0].Provider != "github" || ci[0].Audience != "https://kapi.example.com" {
		t.Fatalf("ci = %+v", ci)
	}
	cases := map[string]struct{ doc, want string }{
		"unknown provider": {strings.Replace(withCI, "provider: github", "provider: jenkins", 1), "ci[0].provider"},
		"no audience":      {strings.Replace(withCI, "    audience: https://kapi.example.com\n", "", 1), "audience is required"},
		"http issuer":      {strings.Replace(withCI, "https://token.actions", "http://token.actions", 1), "ci[0].issuerURL"},
		"twice":            {withCI + strings.SplitN(withCI, "  ci:\n", 2)[1], "appears twice"},
	}
	for name, tc := range cases {
		if _, err := Parse([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}
