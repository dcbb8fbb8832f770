// Package binding ties tokens to one cluster: the exec credential path
// releases a token only when the server and CA kubectl is about to use match
// the exec args. It links only the standard library, execinfo and trust, so
// the small exec program (cmd/kubectl-securekapi) runs the same check as the
// full CLI without linking client-go or an OIDC library.
package binding
