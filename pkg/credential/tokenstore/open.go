package tokenstore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// Selection is the --token-cache choice.
type Selection string

const (
	SelectAuto    Selection = "auto"
	SelectKeyring Selection = "keyring"
	SelectFile    Selection = "file"
	SelectNone    Selection = "none"
)

var selections = []Selection{SelectAuto, SelectKeyring, SelectFile, SelectNone}

// ParseSelection accepts auto, keyring, file or none (any case).
func ParseSelection(s string) (Selection, error) {
	v := Selection(strings.ToLower(strings.TrimSpace(s)))
	for _, sel := range selections {
		if v == sel {
			return sel, nil
		}
	}
	return "", fmt.Errorf("unknown token cache %q: use auto (OS keyring, else files), keyring, file or none", s)
}

// probeAccount is read (never written) to see whether the keyring answers.
const probeAccount = "probe"

// OpenOptions are the outside world Open works with.
type OpenOptions struct {
	Keyring Keyring       // nil means no keyring on this machine
	Service string        // keyring service; default DefaultService
	FileDir string        // directory for the file store
	Timeout time.Duration // per keyring call; default DefaultKeyringTimeout
}

// Notice is a one-time message for stderr, e.g. that tokens went to files
// because the keyring is unavailable. Empty when there is nothing to say.
type Notice string

// Open returns the selected store. "auto" prefers the keyring and falls back
// to files with a Notice. An explicit "keyring" is not probed: the first
// real read shows whether it answers, which saves the exec credential path a
// round of D-Bus calls, and its error says what to do.
func Open(sel Selection, opts OpenOptions) (Store, Notice, error) {
	switch sel {
	case SelectNone:
		return NoneStore{}, "", nil
	case SelectFile:
		s, err := NewFileStore(opts.FileDir)
		return s, "", err
	case SelectKeyring:
		if opts.Keyring == nil {
			return nil, "", fmt.Errorf("the OS keyring is unavailable: no keyring on this system; pass --token-cache file%s", fileHint(opts.FileDir))
		}
		return keyringStore(opts), "", nil
	case SelectAuto, "":
		return openAuto(opts)
	}
	_, err := ParseSelection(string(sel))
	return nil, "", err
}

func keyringStore(opts OpenOptions) *KeyringStore {
	return &KeyringStore{Keyring: newBoundedKeyring(opts.Keyring, opts.Timeout), Service: opts.Service}
}

func openAuto(opts OpenOptions) (Store, Notice, error) {
	var perr error
	if opts.Keyring == nil {
		perr = errors.New("no keyring on this system")
	} else {
		ks := keyringStore(opts)
		if perr = probe(ks); perr == nil {
			return ks, "", nil
		}
	}
	s, err := NewFileStore(opts.FileDir)
	if err != nil {
		return nil, "", fmt.Errorf("the OS keyring is unavailable (%v) and the file store failed: %w", perr, err)
	}
	return s, Notice(fmt.Sprintf("OS keyring unavailable (%v); tokens are kept in %s (%s)", perr, s.Dir(), userfile.Protection)), nil
}

func fileHint(dir string) string {
	if dir == "" {
		return ""
	}
	return " to keep tokens in " + dir + " instead"
}

// probe reads an account that need not exist: "not found" means the keyring
// answers. The store's keyring is bounded, so a hung D-Bus call costs the
// timeout, not forever.
func probe(s *KeyringStore) error {
	_, err := s.Keyring.Get(s.service(), probeAccount)
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
