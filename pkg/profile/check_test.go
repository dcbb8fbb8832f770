package profile

import (
	"strings"
	"testing"
)

func TestChecksRejectWhatKubectlWouldChokeOn(t *testing.T) {
	cases := []struct {
		what  string
		err   error
		wants string
	}{
		{"server with path, query, fragment", CheckEndpointURL("https://host/some/path?q=1#f"), "query"},
		{"server with path", CheckEndpointURL("https://host/some/path"), "path"},
		{"server with fragment", CheckEndpointURL("https://host#f"), "fragment"},
		{"server port 99999", CheckEndpointURL("https://host:99999"), "1-65535"},
		{"issuer port 99999", CheckIssuerURL("https://login.example.com:99999/dex"), "1-65535"},
		{"issuer with query", CheckIssuerURL("https://login.example.com/dex?x=1"), "query"},
		{"gateway port 99999", CheckHostPort("gw.example.com:99999"), "1-65535"},
		{"gateway without port", CheckHostPort("gw.example.com"), "host:port"},
		{"namespace", CheckNamespace("bad ns!"), "namespace name"},
		{"long namespace", CheckNamespace(strings.Repeat("a", 64)), "at most 63"},
		{"scope with a space", CheckScope("email groups"), "without spaces"},
		{"long name", CheckName(strings.Repeat("a", 5000)), "5000 characters long; the limit is 253"},
		{"upper-case name", CheckName("Cluster"), "lower-case"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.wants) {
			t.Errorf("%s: err = %v, want it to mention %q", c.what, c.err, c.wants)
		}
	}
	for _, ok := range []error{
		CheckEndpointURL("https://kapi.example.com"), CheckEndpointURL("https://10.0.0.5:6443/"),
		CheckIssuerURL("https://127.0.0.1:5556/dex"), CheckHostPort("[::1]:443"),
		CheckNamespace("team-a"), CheckScope("groups"), CheckName("cluster-a.prod_1"),
	} {
		if ok != nil {
			t.Errorf("a good value is refused: %v", ok)
		}
	}
}

func TestValidateNamesTheProfileField(t *testing.T) {
	p, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Clusters[0]
	c.Namespace = "bad ns!"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `namespace "bad ns!"`) {
		t.Errorf("err = %v", err)
	}
	c = p.Clusters[0]
	c.Name = strings.Repeat("x", 5000)
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "the limit is 253") || len(err.Error()) > 200 {
		t.Errorf("err = %v", err)
	}
}
