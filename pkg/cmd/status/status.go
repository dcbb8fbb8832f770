// Package status is `kubectl securekapi status`: who is logged in to each
// cluster, until when, whether it is approved, and where its tokens are kept.
package status

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/kubeconfig"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// StatusOptions shows, per securekapi context, who is logged in and until when.
type StatusOptions struct {
	genericiooptions.IOStreams
	Getenv          func(string) string
	Now             func() time.Time
	KubeconfigStore func() *kubeconfig.Store
	OpenTokenStore  func(a *cmdutil.AccessFlags) (tokenstore.Store, string, error)

	Access cmdutil.AccessFlags
	Output string
}

// ClusterStatus is one row of `status`.
type ClusterStatus struct {
	Context  string    `json:"context"`
	Issuer   string    `json:"issuer"`
	ClientID string    `json:"clientID"`
	LoggedIn bool      `json:"loggedIn"`
	Subject  string    `json:"subject,omitempty"`
	Email    string    `json:"email,omitempty"`
	Groups   []string  `json:"groups,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
	Expired  bool      `json:"expired"`
	Refresh  bool      `json:"refreshable"`
	Store    string    `json:"store"`
	Location string    `json:"location"`
	Problem  string    `json:"problem,omitempty"`
	// Grant is the CI grant of a context that needs no person (ci-token,
	// token-exchange, client-credentials); empty for a person's login.
	Grant string `json:"grant,omitempty"`
	// approveCommand approves the context: `login NAME`, or a CI grant's
	// `use NAME --ci ... --approve`.
	approveCommand string
	// Approved: the user approved this cluster (its server and pins) to
	// receive this login; without it kubectl gets no token.
	Approved   bool      `json:"approved"`
	ApprovedAt time.Time `json:"approvedAt,omitzero"`
	ApprovedBy string    `json:"approvedVia,omitempty"`
}

// NewCmdStatus returns the status command.
func NewCmdStatus(g *cmdutil.Factory) *cobra.Command { return newCmdStatus(g, nil) }

// newCmdStatus wires the flags to StatusOptions; runF, when set, runs instead of Run
// once Complete and Validate passed, so a test sees what the flags made.
func newCmdStatus(g *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	o := &StatusOptions{IOStreams: g.IOStreams, Getenv: g.Getenv, Now: g.Now, KubeconfigStore: g.KubeconfigStore, OpenTokenStore: g.OpenTokenStore}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show who is logged in to each securekapi cluster, until when, whether it is approved, and where tokens are kept",
		Example: `  kubectl securekapi status
  kubectl securekapi status -o json`,
		Args: cobra.NoArgs,
		RunE: cmdutil.RunE(o, runF),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml (default: a table)")
	o.Access.AddStoreFlags(cmd.Flags())
	return cmd
}

// Complete has nothing to fill in: the flags are all there is.
func (o *StatusOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate rejects unknown output formats.
func (o *StatusOptions) Validate() error { return cmdutil.ValidateOutput(o.Output) }

// Run prints the rows.
func (o *StatusOptions) Run(context.Context) error {
	cfg, err := o.KubeconfigStore().Load()
	if err != nil {
		return err
	}
	stores := o.storesOfContexts()
	var rows []ClusterStatus
	names := make([]string, 0, len(cfg.Contexts))
	for name := range cfg.Contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args, err := cmdutil.SecurekapiExecArgs(cfg, name)
		if err != nil {
			continue // not a securekapi context
		}
		a := &cmdutil.AccessFlags{}
		row := ClusterStatus{Context: name}
		if _, err := a.ParseExecArgs(args); err != nil {
			row.Problem = "unreadable exec args: " + err.Error()
			rows = append(rows, row)
			continue
		}
		row.Issuer, row.ClientID = a.Issuer, a.ClientID
		if a.MachineGrant() {
			row.Grant = a.Grant
		}
		named := *a
		if named.Cluster == "" {
			named.Cluster = name
		}
		row.approveCommand = named.ApproveCommand()
		store, approvals, err := stores(a)
		if err != nil {
			row.Problem = err.Error()
			rows = append(rows, row)
			continue
		}
		row.Store, row.Location = store.Kind(), store.Location()
		o.fill(&row, store, a)
		fillApproval(&row, approvals, a)
		rows = append(rows, row)
	}
	return o.print(rows)
}

func (o *StatusOptions) fill(row *ClusterStatus, store tokenstore.Store, a *cmdutil.AccessFlags) {
	ts, err := store.Get(a.Key())
	switch {
	case errors.Is(err, tokenstore.ErrNotFound):
		return
	case err != nil:
		row.Problem = err.Error()
		return
	}
	row.LoggedIn = true
	row.Subject, row.Email, row.Groups, row.Expiry = ts.Subject, ts.Email, ts.Groups, ts.Expiry
	row.Expired = !ts.Expiry.After(o.Now())
	row.Refresh = ts.RefreshToken != ""
}

func (o *StatusOptions) approvals(a *cmdutil.AccessFlags) (*binding.ApprovalsFile, error) {
	s, err := cmdutil.ApprovalStore(o.Getenv, a)
	if err != nil {
		return nil, err
	}
	return s.Load()
}

// fillApproval tells whether the context's binding (its exec args, as the
// credential call reads them) is approved for its login.
func fillApproval(row *ClusterStatus, f *binding.ApprovalsFile, a *cmdutil.AccessFlags) {
	binding, err := a.Binding()
	if err != nil {
		return
	}
	id, target := a.Key().ID(), binding.ApprovalTarget()
	for _, ap := range f.Approvals {
		if ap.Matches(id, target) {
			row.Approved, row.ApprovedAt, row.ApprovedBy = true, ap.ApprovedAt, ap.Via
			return
		}
	}
}

func (o *StatusOptions) print(rows []ClusterStatus) error {
	if done, err := cmdutil.WriteStructured(o.Out, o.Output, rows); done {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintln(o.ErrOut, "No securekapi clusters in the kubeconfig; add one with `kubectl securekapi use NAME`.")
		return nil
	}
	w := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CONTEXT\tUSER\tGROUPS\tEXPIRES\tAPPROVED\tSTORE")
	var problems []ClusterStatus
	for _, r := range rows {
		user, expires := "(not logged in)", "-"
		if r.LoggedIn {
			user = cmdutil.OrDash(r.Email)
			expires = r.Expiry.Local().Format(time.RFC3339)
			if r.Expired {
				expires += " (expired"
				if r.Refresh {
					expires += ", refreshable"
				}
				expires += ")"
			}
		}
		if r.Problem != "" {
			// The problem goes on its own line below the table: in a
			// column it would stretch every row to its length.
			user = "(problem, see below)"
			problems = append(problems, r)
		}
		approved := "no"
		if r.Approved {
			approved = "yes (" + r.ApprovedBy + ")"
		}
		// The claims come from the ID token, the context from the
		// kubeconfig: escaped, so no escape sequence reaches the terminal.
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", safetext.Escape(r.Context), safetext.Escape(user),
			cmdutil.OrDash(strings.Join(safetext.EscapeAll(r.Groups), ",")), expires, safetext.Escape(approved), safetext.Escape(r.Location))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if !r.Approved {
			if r.Grant != "" {
				fmt.Fprintf(o.ErrOut, "Not approved: %s (CI grant %s); kubectl gets no token for it until the job runs `%s`.\n", safetext.Escape(r.Context), safetext.Escape(r.Grant), safetext.Escape(r.approveCommand))
				continue
			}
			fmt.Fprintf(o.ErrOut, "Not approved for single sign-on: %s; kubectl gets no token for it until you run `%s`.\n", safetext.Escape(r.Context), safetext.Escape(r.approveCommand))
		}
	}
	for _, r := range problems {
		next := "kubectl securekapi login " + r.Context + " (it replaces the entry)"
		if r.Issuer == "" {
			next = "kubectl securekapi use " + r.Context + " (it rewrites the exec stanza)"
		}
		fmt.Fprintf(o.Out, "\n%s: %s\n  Next: %s", safetext.Escape(r.Context), safetext.Escape(truncateProblem(r.Problem)), safetext.Escape(next))
	}
	if len(problems) > 0 {
		_, err := fmt.Fprintln(o.Out)
		return err
	}
	return nil
}

// maxProblemRunes bounds a problem in the table; -o json carries it whole.
const maxProblemRunes = 160

// truncateProblem keeps a problem to its first line and maxProblemRunes,
// marking what was cut and where the whole text is.
func truncateProblem(p string) string {
	first, _, multi := strings.Cut(p, "\n")
	runes := []rune(first)
	if !multi && len(runes) <= maxProblemRunes {
		return p
	}
	if len(runes) > maxProblemRunes {
		first = string(runes[:maxProblemRunes])
	}
	return first + "… (-o json shows it all)"
}
