package trust

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePEMCertificates(t *testing.T) {
	root := newRoot(t, "Root")
	inter := newIntermediate(t, "Issuing CA", root)
	bundle := string(EncodePEM(certsOf(inter, root)))

	// Distribution bundles put comments between blocks.
	commented := "# Issuing CA\n" + string(EncodePEM(certsOf(inter))) + "\n# Root\n" + string(EncodePEM(certsOf(root)))
	for name, in := range map[string]string{"plain": bundle, "commented": commented} {
		got, err := ParsePEMCertificates([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !sameCerts(got, certsOf(inter, root)) {
			t.Errorf("%s: got %v", name, subjects(got))
		}
	}

	bad := map[string]string{
		"empty":       "",
		"garbage":     "not a certificate at all",
		"key block":   bundle + "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
		"broken cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	}
	wantMsg := map[string]string{"empty": "BEGIN CERTIFICATE", "garbage": "no PEM certificates", "key block": `"EC PRIVATE KEY"`, "broken cert": "certificate 1"}
	for name, in := range bad {
		if _, err := ParsePEMCertificates([]byte(in)); err == nil || !strings.Contains(err.Error(), wantMsg[name]) {
			t.Errorf("%s: error %v, want one containing %q", name, err, wantMsg[name])
		}
	}
}

func TestSummarize(t *testing.T) {
	root := newRoot(t, "Root")
	leaf := newLeaf(t, root)
	got := Summarize(certsOf(leaf, root))
	if len(got) != 2 {
		t.Fatalf("got %d summaries", len(got))
	}
	l, r := got[0], got[1]
	if l.Subject != "CN="+testHost || l.Issuer != "CN=Root" || l.IsCA || l.Pin != PinFor(leaf.Cert) {
		t.Errorf("leaf summary %+v", l)
	}
	if !slices.Equal(l.DNSNames, []string{testHost}) || !slices.Equal(l.IPs, []string{"127.0.0.1"}) {
		t.Errorf("leaf names %v %v", l.DNSNames, l.IPs)
	}
	if !l.NotAfter.Equal(leaf.Cert.NotAfter) || !l.NotBefore.Equal(leaf.Cert.NotBefore) {
		t.Errorf("leaf dates %v %v", l.NotBefore, l.NotAfter)
	}
	if !r.IsCA || r.Pin != PinFor(root.Cert) {
		t.Errorf("root summary %+v", r)
	}
}
