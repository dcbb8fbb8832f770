// Package binding answers "may this cluster receive this login?", in one
// place for both programs: the token binding (a token goes only to the
// server, TLS name and pinned CA the exec args name, checked against what
// kubectl passes in KUBERNETES_EXEC_INFO), the user's approvals file (which
// clusters a person approved for which login, approvals.go) and the
// approval check that joins them (approve.go).
//
// [light] The small exec program (cmd/kubectl-securekapi) links it: it
// imports the standard library, tokenstore's key, trust/pinning,
// hostport, userfile and atomicfile (which links flock), never crypto/x509,
// client-go or an OIDC library; cmd/kubectl-securekapi's deps test holds
// that.
package binding
