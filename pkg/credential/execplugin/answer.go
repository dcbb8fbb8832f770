// The small program's answer: the exec credential request kubectl makes
// on every call, answered when a usable token is already cached, without
// the full CLI. The small exec program (cmd/kubectl-securekapi) runs Answer
// and, whenever it cannot answer, hands the unchanged argv, environment and
// stdio over to the full CLI (cmd/securekapi), which does everything else
// and says every message. So this path has exactly one way to succeed and
// no messages of its own.
//
// It releases a token only after the same checks, by the same functions, as
// the full `credential` command: Checks (exec args, then binding) and
// binding.CheckApproved (the user approved this cluster for the login)
// before the store is read, tokenstore.OpenChoice, and token.Unusable on
// the entry.

package execplugin

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/securekapi/securekapi/pkg/credential/access"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
)

// Checks runs, in order, every check that must pass before any token is
// read for req: the exec args, then the token binding. The full credential
// command's Validate calls it too, so both paths refuse the same requests.
// A check added to the credential path that needs no token belongs here.
func Checks(a *access.Flags, b binding.Binding, req *Request) error {
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
//
// It reads as the full path's script (credential.Manager.Token) without
// the steps that need the full CLI: read the stanza and the request, check
// everything that needs no token, find the cached token, check it, write.
// Lock, refresh, login, mint and save are the full CLI's.
func Answer(p Process) (bool, error) {
	a, ok := readStanza(p.Args)
	if !ok {
		return false, nil
	}
	a.ResolveAuto(p.Getenv) // in a CI job, auto is the CI grant: its key, its store
	req, err := ReadRequest(p.Getenv)
	if err != nil {
		return false, nil
	}
	// The cache directory is walked and checked once: the approvals and
	// the file store both live there.
	choice := a.StoreChoice()
	dir, err := tokenstore.ResolveCacheDir(choice, p.Getenv)
	if err != nil {
		return false, nil
	}
	if !mayRelease(p, a, req, dir) {
		return false, nil // a refusal is the full CLI's to word
	}
	key := a.Key()
	store, err := tokenstore.OpenChoice(choice, dir, p.Getenv, p.Stderr)
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
	if err := WriteCredential(&out, req.APIVersion, ts.IDToken, token.ExpiryFor(ts, a.ExpiryMargin)); err != nil {
		return false, nil
	}
	if _, err := p.Stdout.Write(out.Bytes()); err != nil {
		return true, fmt.Errorf("write the ExecCredential to kubectl: %w", err)
	}
	return true, nil
}

// readStanza reads the exec args of a `credential` call: the plain args
// `use` writes without pflag's set-up cost, anything else as the full CLI
// parses it. Not ok means the full CLI runs (and says what is wrong).
func readStanza(args []string) (*access.Flags, bool) {
	if len(args) == 0 || args[0] != Subcommand {
		return nil, false
	}
	var a access.Flags
	if !a.ParseExecArgsQuick(args[1:]) {
		if rest, err := a.ParseExecArgs(args[1:]); err != nil || len(rest) > 0 {
			return nil, false
		}
	}
	return &a, true
}

// mayRelease runs every check that needs no token, in the full path's
// order: the exec args and the token binding (Checks), the caller's
// kubeconfig (only inline CA data is bound: a kubeconfig that may name a
// CA file is the full CLI's to parse, or to refuse), and the user's
// approval of this cluster for this login, from the approvals file in the
// checked cache directory dir.
func mayRelease(p Process, a *access.Flags, req *Request, dir string) bool {
	b, err := a.Binding()
	if err != nil || Checks(a, b, req) != nil {
		return false
	}
	if v, err := callerconfig.Scan(p.caller()); err != nil || v != callerconfig.Inline {
		return false
	}
	// No approve command: a refusal is worded by the full CLI, not here.
	return binding.CheckApproved(&binding.ApprovalStore{Path: binding.ApprovalsPathIn(dir)}, a.Key(), b, "") == nil
}
