package logout

import (
	"strings"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
	"github.com/securekapi/securekapi/pkg/cmdutil"
)

// TestLogoutHelpListsOnlyItsFlags: logout never logs in, so its help does
// not offer the login flow's flags.
func TestLogoutHelpListsOnlyItsFlags(t *testing.T) {
	_, help, err := cmdtest.RunWithEnv(t, nil, NewCmdLogout, "--help")
	if err != nil || !strings.Contains(help, "--all") {
		t.Fatalf("logout --help: %v\n%s", err, help)
	}
	for _, flag := range cmdutil.LoginOnlyFlags {
		if strings.Contains(help, "--"+flag) {
			t.Errorf("logout --help lists --%s", flag)
		}
	}
}
