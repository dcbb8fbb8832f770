package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securekapi/securekapi/internal/testpki"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

func TestVerifyWithCABundle(t *testing.T) {
	root := newRoot(t, "Corp Root")
	leaf := newLeaf(t, root)

	v, err := Verify(certsOf(leaf), Policy{CABundle: certsOf(root), ServerName: testHost, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if !sameCerts(v.Chain, certsOf(leaf, root)) || !sameCerts(v.CAs, certsOf(root)) {
		t.Errorf("chain %v, CAs %v; want [leaf root], [root]", subjects(v.Chain), subjects(v.CAs))
	}
	if v.MatchedPin != "" {
		t.Errorf("MatchedPin = %q without pins", v.MatchedPin)
	}
}

func TestVerifyCABundleIsTheOnlyRoot(t *testing.T) {
	trusted, other := newRoot(t, "Trusted"), newRoot(t, "Other")
	leaf := newLeaf(t, trusted)
	// The system pool and a pin both vouch for the chain, but a CA bundle
	// replaces them.
	_, err := Verify(certsOf(leaf, trusted), Policy{
		CABundle:    certsOf(other),
		SystemRoots: testpki.Pool(trusted),
		Pins:        []pinning.Pin{PinFor(trusted.Cert)},
		ServerName:  testHost,
		Now:         testNow,
	})
	requireKind(t, err, KindUnknownAuthority)
}

func TestVerifyPinAnchoredTrust(t *testing.T) {
	root := newRoot(t, "Private Root")
	leaf := newLeaf(t, root)
	pin := PinFor(root.Cert)

	for name, system := range map[string]*x509.CertPool{"empty system pool": x509.NewCertPool(), "real system pool": nil} {
		t.Run(name, func(t *testing.T) {
			v, err := Verify(certsOf(leaf, root), Policy{SystemRoots: system, Pins: []pinning.Pin{pin}, ServerName: testHost, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if v.MatchedPin != pin || !sameCerts(v.CAs, certsOf(root)) {
				t.Errorf("MatchedPin %q CAs %v; want %q [root]", v.MatchedPin, subjects(v.CAs), pin)
			}
		})
	}
}

func TestVerifyUnpinnedPrivateCAIsUnknown(t *testing.T) {
	root := newRoot(t, "Private Root")
	leaf := newLeaf(t, root)
	_, err := Verify(certsOf(leaf, root), Policy{SystemRoots: x509.NewCertPool(), ServerName: testHost, Now: testNow})
	te := requireKind(t, err, KindUnknownAuthority)
	for _, want := range []string{"Private Root", "--ca-file", "--pin"} {
		if !strings.Contains(te.Error(), want) {
			t.Errorf("message lacks %q: %s", want, te)
		}
	}
}

func TestVerifyPinnedCANotSent(t *testing.T) {
	root := newRoot(t, "Private Root")
	leaf := newLeaf(t, root)
	// Pin-anchoring needs the pinned certificate; this server sends its leaf only.
	_, err := Verify(certsOf(leaf), Policy{SystemRoots: x509.NewCertPool(), Pins: []pinning.Pin{PinFor(root.Cert)}, ServerName: testHost, Now: testNow})
	te := requireKind(t, err, KindUnknownAuthority)
	if !strings.Contains(te.Error(), "does not send a certificate with the pinned key") {
		t.Errorf("message does not explain the missing pinned CA: %s", te)
	}
}

func TestVerifyPinAnchoringDoesNotLeakIntoSystemPool(t *testing.T) {
	system := x509.NewCertPool()
	self := issue(t, testpki.Spec{CN: testHost, Names: []string{testHost}})
	if _, err := Verify(certsOf(self), Policy{SystemRoots: system, Pins: []pinning.Pin{PinFor(self.Cert)}, ServerName: testHost, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(certsOf(self), Policy{SystemRoots: system, ServerName: testHost, Now: testNow})
	requireKind(t, err, KindSelfSigned)
}

func TestVerifySystemRootsAndPin(t *testing.T) {
	root := newRoot(t, "Public Root")
	leaf := newLeaf(t, root)
	pin := PinFor(root.Cert)

	// The server sends only its leaf; the root comes from the system pool.
	v, err := Verify(certsOf(leaf), Policy{SystemRoots: testpki.Pool(root), Pins: []pinning.Pin{pin}, ServerName: testHost, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if v.MatchedPin != pin || !sameCerts(v.Chain, certsOf(leaf, root)) {
		t.Errorf("MatchedPin %q chain %v", v.MatchedPin, subjects(v.Chain))
	}
}

func TestVerifyWrongPinOnValidChain(t *testing.T) {
	root := newRoot(t, "Public Root")
	leaf := newLeaf(t, root)
	wrong := PinFor(newRoot(t, "Someone Else").Cert)

	_, err := Verify(certsOf(leaf, root), Policy{SystemRoots: testpki.Pool(root), Pins: []pinning.Pin{wrong}, ServerName: testHost, Now: testNow})
	te := requireKind(t, err, KindPinMismatch)
	if !slices.Equal(te.Expected, []pinning.Pin{wrong}) {
		t.Errorf("Expected = %v, want [%s]", te.Expected, wrong)
	}
	if !slices.Equal(te.Presented, []pinning.Pin{PinFor(leaf.Cert), PinFor(root.Cert)}) {
		t.Errorf("Presented = %v, want the leaf's and root's pins", te.Presented)
	}
	msg := te.Error()
	for _, want := range []string{string(wrong), string(PinFor(leaf.Cert)), string(PinFor(root.Cert)), "CN=Public Root", "CN=" + testHost, "rotated the CA", "kubectl securekapi pin"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestVerifyOtherSystemCAIsNotThePinnedOne(t *testing.T) {
	corp := newRoot(t, "Corp Root")
	other := newRoot(t, "Other Public Root")
	// Someone presents a valid certificate for the name from another CA the
	// system trusts, without sending that CA.
	impostor := newLeaf(t, other)

	_, err := Verify(certsOf(impostor), Policy{SystemRoots: testpki.Pool(corp, other), Pins: []pinning.Pin{PinFor(corp.Cert)}, ServerName: testHost, Now: testNow})
	te := requireKind(t, err, KindPinMismatch)
	// The root it verified to is shown too: its pin is what to compare.
	if msg := te.Error(); !strings.Contains(msg, string(PinFor(other.Cert))) || !strings.Contains(msg, "Other Public Root") {
		t.Errorf("message does not show the root the chain verified to:\n%s", msg)
	}
}

func TestVerifyDates(t *testing.T) {
	root := newRoot(t, "Root")
	expiredLeaf := issue(t, testpki.Spec{CN: testHost, Names: []string{testHost}, Issuer: root, NotBefore: testNow.Add(-48 * time.Hour), NotAfter: testNow.Add(-time.Hour)})
	futureLeaf := issue(t, testpki.Spec{CN: testHost, Names: []string{testHost}, Issuer: root, NotBefore: testNow.Add(time.Hour)})
	expiredInter := issue(t, testpki.Spec{CN: "Expired Intermediate", CA: true, Issuer: root, NotBefore: testNow.Add(-48 * time.Hour), NotAfter: testNow.Add(-time.Hour)})
	leafOfExpired := newLeaf(t, expiredInter)

	tests := []struct {
		name      string
		chain     []*x509.Certificate
		want      Kind
		culprit   string
		wantInMsg string
	}{
		{"expired leaf", certsOf(expiredLeaf), KindExpired, testHost, expiredLeaf.Cert.NotAfter.UTC().Format(time.RFC3339)},
		{"not yet valid leaf", certsOf(futureLeaf), KindNotYetValid, testHost, futureLeaf.Cert.NotBefore.UTC().Format(time.RFC3339)},
		{"expired intermediate", certsOf(leafOfExpired, expiredInter), KindExpired, "Expired Intermediate", expiredInter.Cert.NotAfter.UTC().Format(time.RFC3339)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.chain, Policy{CABundle: certsOf(root), ServerName: testHost, Now: testNow})
			te := requireKind(t, err, tt.want)
			if te.Cert == nil || te.Cert.Subject != "CN="+tt.culprit {
				t.Errorf("Cert = %+v, want CN=%s", te.Cert, tt.culprit)
			}
			if !strings.Contains(te.Error(), tt.wantInMsg) {
				t.Errorf("message lacks %s: %s", tt.wantInMsg, te)
			}
		})
	}
}

func TestVerifyExpiredCrossSignedIntermediate(t *testing.T) {
	root, stranger := newRoot(t, "Root"), newRoot(t, "Stranger Root")
	expired := issue(t, testpki.Spec{CN: "Issuing CA", CA: true, Issuer: root, NotBefore: testNow.Add(-48 * time.Hour), NotAfter: testNow.Add(-time.Hour)})
	// The same CA, cross-signed by a root we do not trust: x509 tries it
	// last and reports an unknown authority, hiding the real cause.
	crossSigned := issue(t, testpki.Spec{CN: "Issuing CA", CA: true, Issuer: stranger, Key: expired.Key})
	leaf := newLeaf(t, expired)

	_, err := Verify(certsOf(leaf, expired, crossSigned), Policy{CABundle: certsOf(root), ServerName: testHost, Now: testNow})
	te := requireKind(t, err, KindExpired)
	if te.Cert == nil || !te.Cert.NotAfter.Equal(expired.Cert.NotAfter) {
		t.Errorf("Cert = %+v, want the expired intermediate", te.Cert)
	}
}

func TestVerifyHostnameMismatch(t *testing.T) {
	root := newRoot(t, "Root")
	leaf := newLeaf(t, root)
	_, err := Verify(certsOf(leaf), Policy{CABundle: certsOf(root), ServerName: "other.example.test", Now: testNow})
	te := requireKind(t, err, KindHostnameMismatch)
	for _, want := range []string{testHost, "127.0.0.1", "other.example.test", "--tls-server-name"} {
		if !strings.Contains(te.Error(), want) {
			t.Errorf("message lacks %q: %s", want, te)
		}
	}
}

func TestVerifySelfSigned(t *testing.T) {
	self := issue(t, testpki.Spec{CN: testHost, Names: []string{testHost}})
	pin := PinFor(self.Cert)

	_, err := Verify(certsOf(self), Policy{SystemRoots: x509.NewCertPool(), ServerName: testHost, Now: testNow})
	te := requireKind(t, err, KindSelfSigned)
	if !strings.Contains(te.Error(), "--pin "+string(pin)) {
		t.Errorf("message does not suggest its pin: %s", te)
	}

	// Re-keyed since it was pinned: still self-signed, and the message says
	// which pin was expected.
	oldPin := PinFor(newRoot(t, "old self").Cert)
	_, err = Verify(certsOf(self), Policy{SystemRoots: x509.NewCertPool(), Pins: []pinning.Pin{oldPin}, ServerName: testHost, Now: testNow})
	te = requireKind(t, err, KindSelfSigned)
	if !strings.Contains(te.Error(), string(oldPin)) || !strings.Contains(te.Error(), string(pin)) {
		t.Errorf("message does not show the expected and presented pins: %s", te)
	}

	v, err := Verify(certsOf(self), Policy{SystemRoots: x509.NewCertPool(), Pins: []pinning.Pin{pin}, ServerName: testHost, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if !sameCerts(v.CAs, certsOf(self)) || !sameCerts(v.Chain, certsOf(self)) || v.MatchedPin != pin {
		t.Errorf("chain %v CAs %v pin %q; want the leaf alone", subjects(v.Chain), subjects(v.CAs), v.MatchedPin)
	}
}

func TestVerifyPinnedIntermediate(t *testing.T) {
	root := newRoot(t, "Root")
	inter := newIntermediate(t, "Issuing CA", root)
	leaf := newLeaf(t, inter)
	pin := PinFor(inter.Cert)

	t.Run("CA bundle has the root", func(t *testing.T) {
		v, err := Verify(certsOf(leaf, inter), Policy{CABundle: certsOf(root), Pins: []pinning.Pin{pin}, ServerName: testHost, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if !sameCerts(v.CAs, certsOf(inter, root)) || v.MatchedPin != pin {
			t.Errorf("CAs %v pin %q; want [Issuing CA, Root]", subjects(v.CAs), v.MatchedPin)
		}
	})
	t.Run("system pool has the root", func(t *testing.T) {
		// Both leaf→inter (pin-anchored) and leaf→inter→root verify; the
		// shorter one keeps kubeconfig from trusting all of the root.
		v, err := Verify(certsOf(leaf, inter), Policy{SystemRoots: testpki.Pool(root), Pins: []pinning.Pin{pin}, ServerName: testHost, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if !sameCerts(v.CAs, certsOf(inter)) {
			t.Errorf("CAs %v; want [Issuing CA]", subjects(v.CAs))
		}
	})
}

func TestVerifyLeafWithoutServerAuthIsRejected(t *testing.T) {
	root := newRoot(t, "Root")
	clientOnly := issue(t, testpki.Spec{CN: testHost, Names: []string{testHost}, Issuer: root, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	_, err := Verify(certsOf(clientOnly), Policy{CABundle: certsOf(root), ServerName: testHost, Now: testNow})
	requireKind(t, err, KindInvalidCertificate)
}

func TestVerifyInvalidInput(t *testing.T) {
	root := newRoot(t, "Root")
	leaf := newLeaf(t, root)
	tests := []struct {
		name  string
		chain []*x509.Certificate
		p     Policy
		want  Kind
	}{
		{"no certificates", nil, Policy{ServerName: testHost, Now: testNow}, KindNoCertificates},
		{"no time", certsOf(leaf), Policy{CABundle: certsOf(root), ServerName: testHost}, KindInvalidInput},
		{"no server name", certsOf(leaf), Policy{CABundle: certsOf(root), Now: testNow}, KindInvalidInput},
		{"nil certificate", []*x509.Certificate{leaf.Cert, nil}, Policy{CABundle: certsOf(root), ServerName: testHost, Now: testNow}, KindInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.chain, tt.p)
			requireKind(t, err, tt.want)
		})
	}
}

func TestCAPEMRoundTripsWithoutLeaf(t *testing.T) {
	root := newRoot(t, "Root")
	inter := newIntermediate(t, "Issuing CA", root)
	leaf := newLeaf(t, inter)
	v, err := Verify(certsOf(leaf, inter), Policy{CABundle: certsOf(root), ServerName: testHost, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePEMCertificates(v.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	if !sameCerts(back, certsOf(inter, root)) {
		t.Errorf("CAPEM holds %v, want [Issuing CA, Root]", subjects(back))
	}
	if bytes.Contains(v.CAPEM(), EncodePEM(certsOf(leaf))) {
		t.Error("CAPEM contains the leaf")
	}
}

func TestErrorsAsThroughWrapping(t *testing.T) {
	_, err := Verify(nil, Policy{ServerName: testHost, Now: testNow})
	wrapped := errors.Join(errors.New("checking cluster"), err)
	var te *Error
	if !errors.As(wrapped, &te) || te.Kind != KindNoCertificates {
		t.Fatalf("errors.As on %v = %v", wrapped, te)
	}
}

func TestKindsHaveDistinctMessages(t *testing.T) {
	leaf := Summarize(certsOf(issue(t, testpki.Spec{CN: testHost, Names: []string{testHost, "10.0.0.5"}})))
	seen := map[string]Kind{}
	for k := KindUnreachable; k <= KindInvalidCertificate; k++ {
		e := &Error{Kind: k, Endpoint: "https://kapi.example.test", ServerName: testHost, Chain: leaf, Now: testNow, Err: errors.New("cause")}
		msg := e.Error()
		if !strings.Contains(msg, "https://kapi.example.test") {
			t.Errorf("%v message does not name the endpoint: %s", k, msg)
		}
		if other, dup := seen[msg]; dup {
			t.Errorf("%v and %v share a message", k, other)
		}
		seen[msg] = k
	}
}

func sameCerts(a, b []*x509.Certificate) bool {
	return slices.EqualFunc(a, b, func(x, y *x509.Certificate) bool { return x.Equal(y) })
}

func subjects(certs []*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = c.Subject.CommonName
	}
	return out
}
