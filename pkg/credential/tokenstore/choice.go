package tokenstore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// Choice is what decides which store a cluster's tokens live in and where:
// the selection (--token-cache, else $SECUREKAPI_TOKEN_CACHE, else auto),
// the cache directory (--cache-dir, else $SECUREKAPI_CACHE_DIR, else the
// user cache dir), and whether the grant needs no person (then never the
// keyring). access.Flags.StoreChoice fills it from the exec args.
type Choice struct {
	Selection string
	CacheDir  string
	Machine   bool
}

// ResolveCacheDir is where the approvals file, the file store and the
// lock files live: --cache-dir, else $SECUREKAPI_CACHE_DIR, else the user
// cache dir. An exec stanza's args and env can name it, so it must be the
// user's own (userfile.CheckPrivateDir): a private directory of the user,
// reached through directories no one else can change. Another user's
// directory, a shared one, or a checked-out repository (0755) is refused,
// so nobody can plant an approval there or read a token from it.
func ResolveCacheDir(c Choice, getenv func(string) string) (string, error) {
	dir, source := c.CacheDir, "--cache-dir"
	if dir == "" {
		dir, source = getenv("SECUREKAPI_CACHE_DIR"), "SECUREKAPI_CACHE_DIR"
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("find a cache directory: %w (set SECUREKAPI_CACHE_DIR)", err)
		}
		dir, source = filepath.Join(base, "securekapi"), "the user cache directory"
	}
	if err := userfile.CheckPrivateDir(dir); err != nil {
		return "", fmt.Errorf("the cache directory (%s): %w", source, err)
	}
	return dir, nil
}

// OpenChoice opens the store c selects, its files in dir (ResolveCacheDir's
// answer, which the caller keeps: the exec path walks it once); a notice
// (e.g. "keyring unavailable, using files") goes to errOut the first time it
// differs from the last one said.
func OpenChoice(c Choice, dir string, getenv func(string) string, errOut io.Writer) (Store, error) {
	choice := c.Selection
	if choice == "" {
		choice = getenv("SECUREKAPI_TOKEN_CACHE")
	}
	if choice == "" {
		choice = string(SelectAuto)
	}
	// A machine grant's tokens live minutes, have no refresh token, and are
	// minted again whenever they lapse: they never go to the keyring (a
	// runner's keyring outlives the job), only to the private file store,
	// which lets parallel kubectl calls in one job share one token.
	if c.Machine {
		if s := Selection(strings.ToLower(strings.TrimSpace(choice))); s == SelectAuto || s == SelectKeyring {
			choice = string(SelectFile) // an explicit --token-cache keyring is refused by Validate
		}
	}
	sel, err := ParseSelection(choice)
	if err != nil {
		return nil, fmt.Errorf("--token-cache: %w", err)
	}
	// SECUREKAPI_KEYRING_SERVICE keeps identities apart in one keyring:
	// two CI jobs on one runner, or test sessions.
	store, notice, err := Open(sel, OpenOptions{
		Keyring: SystemKeyring(), Service: getenv("SECUREKAPI_KEYRING_SERVICE"),
		FileDir: filepath.Join(dir, "tokens"),
	})
	if err != nil {
		return nil, err
	}
	if notice != "" && firstTime(filepath.Join(dir, "store-notice"), string(notice)) {
		fmt.Fprintf(errOut, "securekapi: %s\n", notice)
	}
	return store, nil
}

// firstTime reports whether message differs from the one last recorded in
// marker, and records it. The store notice is said once, not on every
// kubectl call; a change (the keyring came back, or went away) is said again.
func firstTime(marker, message string) bool {
	if old, err := os.ReadFile(marker); err == nil && string(old) == message {
		return false
	}
	_ = userfile.MkdirPrivate(filepath.Dir(marker))
	_ = os.WriteFile(marker, []byte(message), 0o600)
	return true
}
