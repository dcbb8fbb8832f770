// Package fastpath answers the exec credential request kubectl makes on
// every call when a usable token is already cached, without the full CLI.
// The small exec program (cmd/kubectl-securekapi) runs it and, whenever it
// cannot answer, hands the unchanged argv, environment and stdio over to the
// full CLI (cmd/securekapi), which does everything else and says every
// message. So the fast path has exactly one way to succeed and no messages
// of its own.
//
// It releases a token only after the same checks, by the same functions, as
// the full `credential` command: Checks (exec args, then binding) and
// binding.CheckApproved (the user approved this cluster for the login)
// before the store is read, access.Flags.OpenStore, and token.Unusable
// on the entry. It links no cobra, client-go, apimachinery, go-oidc or oauth2;
// cmd/kubectl-securekapi's tests fail if it starts to.
package fastpath

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/execinfo"
	"github.com/securekapi/securekapi/pkg/credential/token"
)

// Subcommand is the exec stanza's subcommand, the only one answered here
// (and, under KUBERNETES_EXEC_INFO, the only one either program runs).
const Subcommand = execinfo.Subcommand

// Checks runs, in order, every check that must pass before any token is
// read for req: the exec args, then the token binding. The full credential
// command's Validate calls it too, so both paths refuse the same requests.
// A check added to the credential path that needs no token belongs here.
func Checks(a *access.Flags, b binding.Binding, req *execinfo.Request) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// A login from kubectl opens the browser; a command chosen by
	// whoever wrote the stanza must not be what opens it.
	if a.BrowserCmd != "" {
		return fmt.Errorf("refusing --browser-command in a kubeconfig exec stanza: it would run a command chosen by whoever wrote the kubeconfig; " +
			"remove it from the stanza (\"kubectl securekapi use NAME\" rewrites it) and pass it to \"kubectl securekapi login NAME\" instead")
	}
	if err := b.Check(req.Cluster); err != nil {
		return fmt.Errorf("token binding: %w", err)
	}
	return nil
}

// Process is what the fast path works with: the arguments after the program
// name, the environment, stdout and stderr, and the clock.
type Process struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	// Caller is the client that ran the plugin (its kubeconfig files and
	// flags), nil when unknown: the environment stands in.
	Caller func() *callerconfig.Caller
}

func (p Process) caller() *callerconfig.Caller {
	if p.Caller != nil {
		if c := p.Caller(); c != nil {
			return c
		}
	}
	return callerconfig.Own(p.Getenv)
}

// Answer writes the ExecCredential for a cached, usable token and reports
// true. It reports false, having written nothing to Stdout, whenever the
// full CLI must run instead: another subcommand, flags it does not map
// (-v, --help), bad input, a refused binding, an unreadable store, or a
// missing, corrupt, foreign or expiring entry. An error means the answer
// could not be written; it is never worth a second attempt by the full CLI,
// which would write a second credential.
func Answer(p Process) (bool, error) {
	if len(p.Args) == 0 || p.Args[0] != Subcommand {
		return false, nil
	}
	var a access.Flags
	// The plain args `use` writes without pflag's set-up cost; anything
	// else as the full CLI parses it.
	if !a.ParseExecArgsQuick(p.Args[1:]) {
		if rest, err := a.ParseExecArgs(p.Args[1:]); err != nil || len(rest) > 0 {
			return false, nil // the full CLI says what is wrong with them
		}
	}
	a.ResolveAuto(p.Getenv) // in a CI job, auto is the CI grant: its key, its store
	req, err := execinfo.ReadRequest(p.Getenv)
	if err != nil {
		return false, nil
	}
	b, err := a.Binding()
	if err != nil {
		return false, nil
	}
	if err := Checks(&a, b, req); err != nil {
		return false, nil
	}
	// Only inline CA data is bound (callerconfig): a kubeconfig that may
	// name a CA file is the full CLI's to parse, or to refuse.
	if v, err := callerconfig.Scan(p.caller()); err != nil || v != callerconfig.Inline {
		return false, nil
	}
	// The approval check comes before any token is read, as in the full
	// path (credential.Manager.Token); a refusal is the full CLI's to say.
	dir, err := a.ResolveCacheDir(p.Getenv)
	if err != nil {
		return false, nil
	}
	// No approve command: a refusal is worded by the full CLI, not here.
	key := a.Key()
	if binding.CheckApproved(&binding.ApprovalStore{Path: binding.ApprovalsPathIn(dir)}, key, b, "") != nil {
		return false, nil
	}
	store, _, err := a.OpenStore(p.Getenv, p.Stderr)
	if err != nil {
		return false, nil
	}
	ts, err := store.Get(key)
	if err != nil || ts == nil {
		return false, nil // corrupt entries are deleted, unreadable stores explained, by the full CLI
	}
	if !token.SourceMatches(ts, key, a.Source(p.Getenv)) || token.Unusable(ts, a.Issuer, a.TokenAudience(), a.ExpiryMargin, p.Now()) != "" {
		return false, nil // refresh, login, or mint for this CI job
	}
	var out bytes.Buffer
	if err := execinfo.WriteCredential(&out, req.APIVersion, ts.IDToken, token.ExpiryFor(ts, a.ExpiryMargin)); err != nil {
		return false, nil
	}
	if _, err := p.Stdout.Write(out.Bytes()); err != nil {
		return true, fmt.Errorf("write the ExecCredential to kubectl: %w", err)
	}
	return true, nil
}
