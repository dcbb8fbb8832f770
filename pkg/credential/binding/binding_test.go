package binding

import (
	"encoding/pem"
	"strings"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// TestBindingRefusesWhatTheKubeconfigWasEditedTo: the attacker edits the
// kubeconfig cluster (server, CA, TLS checks, name, proxy); the exec args,
// which carry the binding, stay as `use` wrote them.
func TestBindingRefusesWhatTheKubeconfigWasEditedTo(t *testing.T) {
	pinned := testpki.Root(t, "Enterprise CA")
	pinnedPEM := pinned.CertPEM
	otherPEM := testpki.Root(t, "Attacker CA").CertPEM
	b := Binding{Cluster: "prod", Server: "https://kapi.example.com", Pins: []pinning.Pin{trust.PinFor(pinned.Cert)}}

	ok := map[string]*Cluster{
		"as written":        {Server: "https://kapi.example.com", CAData: pinnedPEM},
		"same URL, spelled": {Server: "https://KAPI.example.com:443/", CAData: pinnedPEM},
		"name spelled out":  {Server: "https://kapi.example.com", TLSServerName: "kapi.example.com", CAData: pinnedPEM},
		// TLS runs end to end through the proxy, checked as above.
		"through a proxy": {Server: "https://kapi.example.com", ProxyURL: "http://127.0.0.1:3128", CAData: pinnedPEM},
		"pinned CA twice": {Server: "https://kapi.example.com", CAData: append(append([]byte{}, pinnedPEM...), pinnedPEM...)},
		"text around PEM": {Server: "https://kapi.example.com", CAData: append([]byte("# Enterprise CA\n"), pinnedPEM...)},
	}
	for name, c := range ok {
		if err := b.Check(c); err != nil {
			t.Errorf("%s: Check = %v, want ok", name, err)
		}
	}
	refused := map[string]struct {
		cluster *Cluster
		want    string
	}{
		"no cluster info": {nil, "provideClusterInfo"},
		"other server":    {&Cluster{Server: "https://evil.example.com", CAData: pinnedPEM}, "bound to https://kapi.example.com"},
		"other port":      {&Cluster{Server: "https://kapi.example.com:6443", CAData: pinnedPEM}, "bound to"},
		"plain http":      {&Cluster{Server: "http://kapi.example.com", CAData: pinnedPEM}, "bound to"},
		"other CA":        {&Cluster{Server: "https://kapi.example.com", CAData: otherPEM}, "not one of the pinned keys"},
		// kubectl trusts every root in the bundle, not just the pinned one.
		"pinned CA plus a rogue one": {&Cluster{Server: "https://kapi.example.com", ProxyURL: "http://127.0.0.1:3128",
			CAData: append(append([]byte{}, pinnedPEM...), otherPEM...)}, `would trust "CN=Attacker CA"`},
		"rogue CA first": {&Cluster{Server: "https://kapi.example.com",
			CAData: append(append([]byte{}, otherPEM...), pinnedPEM...)}, "Attacker CA"},
		// client-go skips the headed block, so kubectl trusts the rogue CA only.
		"pinned CA in a headed block": {&Cluster{Server: "https://kapi.example.com",
			CAData: append(headed(t, pinnedPEM), otherPEM...)}, "Attacker CA"},
		"only a headed block": {&Cluster{Server: "https://kapi.example.com", CAData: headed(t, pinnedPEM)}, "no certificate kubectl can use"},
		// A CA that signs many hosts: the name verified must be the bound one.
		"other tls-server-name": {&Cluster{Server: "https://kapi.example.com", TLSServerName: "evil.example", ProxyURL: "http://127.0.0.1:3128",
			CAData: pinnedPEM}, `verify its certificate for "evil.example"`},
		"system roots":       {&Cluster{Server: "https://kapi.example.com"}, "no certificate-authority-data"},
		"TLS checks off":     {&Cluster{Server: "https://kapi.example.com", CAData: pinnedPEM, InsecureSkipTLSVerify: true}, "insecure-skip-tls-verify"},
		"unreadable CA data": {&Cluster{Server: "https://kapi.example.com", CAData: []byte("garbage")}, "no certificate kubectl can use"},
		"a key in the CA data": {&Cluster{Server: "https://kapi.example.com",
			CAData: append(append([]byte{}, pinnedPEM...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...)}, "unreadable"},
	}
	for name, tc := range refused {
		err := b.Check(tc.cluster)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check = %v, want an error about %q", name, err, tc.want)
		}
		if err != nil && tc.cluster != nil && !strings.Contains(err.Error(), "kubectl securekapi use prod") {
			t.Errorf("%s: error does not name the fix: %v", name, err)
		}
	}
}

// TestBindingWithoutServerOrPinsReleasesNothing: a stanza with --server and
// no --pin (or the reverse) used to skip the CA check.
func TestBindingWithoutServerOrPinsReleasesNothing(t *testing.T) {
	pinned := testpki.Root(t, "Enterprise CA")
	pinnedPEM := pinned.CertPEM
	c := &Cluster{Server: "https://kapi.example.com", CAData: pinnedPEM}
	for name, b := range map[string]Binding{
		"empty":     {},
		"no pins":   {Server: "https://kapi.example.com"},
		"no server": {Pins: []pinning.Pin{trust.PinFor(pinned.Cert)}},
	} {
		if err := b.Check(c); err == nil || !strings.Contains(err.Error(), "--server and --pin") {
			t.Errorf("%s: Check = %v, want a refusal naming --server and --pin", name, err)
		}
	}
	plain := Binding{Server: "http://kapi.example.com", Pins: []pinning.Pin{trust.PinFor(pinned.Cert)}}
	if err := plain.Check(&Cluster{Server: "http://kapi.example.com", CAData: pinnedPEM}); err == nil {
		t.Error("a binding to a plain-http server released a token")
	}
}

// TestBindingName: the bound name is --tls-server-name, else the --server
// host; a stanza written before the name was recorded refuses a kubeconfig
// that verifies another name, and says how to fix it.
func TestBindingName(t *testing.T) {
	pinned := testpki.Root(t, "Enterprise CA")
	pinnedPEM := pinned.CertPEM
	pins := []pinning.Pin{trust.PinFor(pinned.Cert)}
	named := Binding{Cluster: "e2e", Server: "https://127.0.0.1:8443", TLSServerName: "kapi.example.test", Pins: pins}
	legacy := Binding{Cluster: "e2e", Server: "https://127.0.0.1:8443", Pins: pins}
	viaName := &Cluster{Server: "https://127.0.0.1:8443", TLSServerName: "kapi.example.test", CAData: pinnedPEM}
	viaHost := &Cluster{Server: "https://127.0.0.1:8443", CAData: pinnedPEM}

	if err := named.Check(viaName); err != nil {
		t.Errorf("named binding, same name: %v", err)
	}
	if err := named.Check(&Cluster{Server: viaName.Server, TLSServerName: "KAPI.example.test", CAData: pinnedPEM}); err != nil {
		t.Errorf("names compare without case, as TLS does: %v", err)
	}
	if err := named.Check(viaHost); err == nil || !strings.Contains(err.Error(), `"127.0.0.1"`) {
		t.Errorf("named binding, kubeconfig verifying the IP: %v", err)
	}
	if err := legacy.Check(viaHost); err != nil {
		t.Errorf("legacy binding, URL host: %v", err)
	}
	err := legacy.Check(viaName)
	if err == nil || !strings.Contains(err.Error(), "kubectl securekapi use e2e") {
		t.Errorf("legacy binding, kubeconfig verifying another name: %v, want a refusal naming `kubectl securekapi use e2e`", err)
	}
}

// headed returns the PEM blocks of data with a header added, which
// encoding/pem reads but x509.CertPool.AppendCertsFromPEM skips.
func headed(t *testing.T, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	block.Headers = map[string]string{"X-Ignore": "1"}
	return pem.EncodeToMemory(block)
}

type fileApprovals struct{ f *ApprovalsFile }

func (a fileApprovals) Load() (*ApprovalsFile, error) { return a.f, nil }

// A refusal for a cluster approved with another TLS name or issuer trust
// says which, so a person sees what changed before approving again.
func TestNotApprovedSaysWhatDiffers(t *testing.T) {
	pin := pinning.Pin("sha256:" + strings.Repeat("ab", 32))
	key := tokenstore.Key{Issuer: "https://dex.example", ClientID: "kubectl"}
	approved := Binding{Server: "https://kapi.example.com", TLSServerName: "kapi.example.com", Pins: []pinning.Pin{pin}, IssuerTrust: "ca sha256:11"}
	f := &ApprovalsFile{Version: ApprovalsVersion}
	f.Approve(ApprovalFor(key.ID(), approved.ApprovalTarget()))
	if err := CheckApproved(fileApprovals{f}, key, approved, "kubectl securekapi login a"); err != nil {
		t.Fatalf("the approved binding: %v", err)
	}
	for want, b := range map[string]Binding{
		`certificate name "kapi.example.com", this kubeconfig verifies "internal.example.com"`: {Server: approved.Server, TLSServerName: "internal.example.com", Pins: approved.Pins, IssuerTrust: approved.IssuerTrust},
		"trusts the issuer by ca sha256:11, this kubeconfig by system roots":                   {Server: approved.Server, TLSServerName: approved.TLSServerName, Pins: approved.Pins},
	} {
		err := CheckApproved(fileApprovals{f}, key, b, "kubectl securekapi login a")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "kubectl securekapi login a") {
			t.Errorf("CheckApproved(%+v) = %v, want it to say %q", b, err, want)
		}
	}
}
