// Package libs links the third-party and standard libraries securekapi
// imports (the non-k8s.io ones), for the start-up floors in ../libraries
// and ../libraries-k8s: importing it runs their package init and nothing
// else.
package libs

import (
	_ "crypto/tls"
	_ "crypto/x509"
	_ "encoding/json"
	_ "log/slog"
	_ "net/http"
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
