package work

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	apiserverconfig "k8s.io/apiserver/pkg/apis/apiserver"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/authnconfig/kubeapiserver"
	"github.com/securekapi/securekapi/pkg/cmd/authnconfigcmd"
	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// judge prints the verdict on the sample token on stdout, the data asked
// for, and exits 1 when kube-apiserver would refuse it.
func judge(ctx context.Context, o *authnconfigcmd.AuthnConfigOptions, cfg *apiserverconfig.AuthenticationConfiguration, t authnconfig.Target) error {
	raw, err := readTokenFile(o.CheckToken, o.In)
	if err != nil {
		return err
	}
	v, err := kubeapiserver.CheckToken(ctx, cfg, t, raw, o.Now())
	if err != nil {
		return fmt.Errorf("--check-token %s: %w", o.CheckToken, err)
	}
	w := o.Out
	// The sample's claims are outside text: escaped for the terminal.
	fmt.Fprintf(w, "issuer:   %s\naudience: %s\n", safetext.Escape(v.Issuer), strings.Join(safetext.EscapeAll(v.Audiences), ", "))
	if v.Expired {
		fmt.Fprintf(w, "expiry:   %s (expired; judged as if just issued)\n", v.Expiry.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if v.Authenticator >= 0 {
		fmt.Fprintf(w, "authenticator: jwt[%d] (%s)\n", v.Authenticator, cfg.JWT[v.Authenticator].Issuer.URL)
	}
	if !v.Accepted {
		fmt.Fprintf(w, "result:   refused: %s\n", safetext.EscapeLines(v.Reason))
		return &cmdutil.ExitError{Code: 1}
	}
	fmt.Fprintf(w, "result:   accepted\nusername: %s\ngroups:   %s\n", safetext.Escape(v.Username), strings.Join(safetext.EscapeAll(v.Groups), ", "))
	return nil
}

// readTokenFile reads a JWT from a file or stdin ("-"). The token is never
// echoed: only its claims are.
func readTokenFile(path string, stdin io.Reader) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--check-token: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}
