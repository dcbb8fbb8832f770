// Command libraries is a start-up floor for bench-credential: it links the
// third-party and standard libraries securekapi imports (the non-k8s.io
// ones), runs their package init, prints a fixed line and exits. No
// securekapi code runs, so no credential path can start faster than this.
package main

import (
	_ "crypto/tls"
	_ "crypto/x509"
	_ "encoding/json"
	_ "log/slog"
	_ "net/http"
	"os"
	_ "os/exec"
	_ "regexp"
	_ "text/tabwriter"

	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/gofrs/flock"
	_ "github.com/int128/oauth2cli"
	_ "github.com/mdp/qrterminal/v3"
	_ "github.com/spf13/cobra"
	_ "github.com/zalando/go-keyring"
	_ "golang.org/x/oauth2"
)

func main() { _, _ = os.Stdout.WriteString("{}\n") }
