package status

import (
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdStatusFlags(t *testing.T) {
	var got *StatusOptions
	cmd := newCmdStatus(cmdtest.Factory(nil), func(o *StatusOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "-o", "yaml", "--token-cache", "file", "--cache-dir", "/tmp/c"); err != nil {
		t.Fatal(err)
	}
	if got.Output != "yaml" || got.Access.TokenCache != "file" || got.Access.CacheDir != "/tmp/c" {
		t.Errorf("options = %+v", got)
	}
	// The store flags are the exec-arg table's rows, help included.
	for flag, want := range map[string]string{"token-cache": "$SECUREKAPI_TOKEN_CACHE, else auto", "cache-dir": "$SECUREKAPI_CACHE_DIR"} {
		if f := cmd.Flags().Lookup(flag); f == nil || !strings.Contains(f.Usage, want) {
			t.Errorf("--%s help does not say its default (%q): %+v", flag, want, f)
		}
	}
}
