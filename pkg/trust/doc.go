// Package trust decides whether an endpoint's TLS certificate chain can be
// trusted: it fetches the chain an endpoint presents, verifies it against a
// CA bundle or the system roots, its name and dates, and checks it against
// SPKI pins in kubeadm's "sha256:<hex>" format. A pinned certificate found in
// the chain is also accepted as a root, so a private enterprise CA can be
// trusted by its pin alone.
//
// Policy.TLSConfig is the client side of the same rules: a tls.Config that
// verifies every handshake against the policy, so a connection opened
// later is checked on its own.
//
// Every verification failure is a *Error whose Kind says what went wrong and
// whose message tells the user what to do next.
//
// The pin, PEM and endpoint rules are implemented once, in package pinning,
// which links no crypto/tls: the exec credential path checks them on every
// kubectl call. Package trust re-exports them (Pin, PinFor, ParsePin(s),
// ChainMatchesPins, ParsePEMCertificates, EncodePEM, Endpoint).
package trust
