package execplugin

import "fmt"

// Subcommand is the only command a kubeconfig exec stanza may run.
const Subcommand = "credential"

// CheckExecOnly refuses every call but Subcommand made from a kubeconfig
// exec stanza, that is with KUBERNETES_EXEC_INFO set (kubectl sets it last,
// after the stanza's own env, so a stanza cannot clear it). Whoever wrote
// the kubeconfig chose the stanza's args: a kuberc credential-plugin
// allowlist that lets kubectl run only kubectl-securekapi must not let them
// run `shell NAME -- sh -c ...`, `run`, `login` or any other command
// through it. args are the program's arguments after its name; the
// subcommand must come first, so no flag can stand before it either.
//
// The small exec program checks this before it answers or hands a call
// over, and the full CLI before its command tree parses anything: one rule,
// both programs.
func CheckExecOnly(args []string, getenv func(string) string) error {
	if getenv(envName) == "" {
		return nil
	}
	if len(args) > 0 && args[0] == Subcommand {
		return nil
	}
	what := "no subcommand"
	if len(args) > 0 {
		what = fmt.Sprintf("%q", args[0])
	}
	return fmt.Errorf("refusing %s from a kubeconfig exec stanza (%s is set): an exec stanza may only run %q, because whoever wrote the kubeconfig chose its args; "+
		"run \"kubectl securekapi use NAME\" to rewrite the stanza, and run other commands yourself in a shell where %s is not set",
		what, envName, Subcommand, envName)
}
