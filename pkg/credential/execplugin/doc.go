// Package execplugin is the exec-plugin contract both programs share: what
// a kubeconfig exec stanza may make securekapi do, and how kubectl and the
// plugin talk.
//
//   - wire.go: the ExecCredential wire (KUBERNETES_EXEC_INFO in, one
//     ExecCredential out), with its own structs held to client-go's types.
//   - execonly.go: under KUBERNETES_EXEC_INFO the only command is
//     `credential` (issue #23: the stanza is attacker input).
//   - answer.go: the release checks both programs run (Checks) and the
//     small program's Answer from the cache, which hands everything else
//     to the full CLI.
//
// The stanza's args are parsed by package access (its one arg table), the
// binding and approvals are package binding's, the token rules package
// token's.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it: it
// links no cobra, client-go, apimachinery, go-oidc or oauth2, and no
// net/http; cmd/kubectl-securekapi's deps tests fail if it starts to.
package execplugin
