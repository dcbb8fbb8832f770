package tokencache

import (
	"errors"
	"fmt"
	"strings"
	"time"
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

// DefaultProbeTimeout bounds the keyring probe. D-Bus calls can hang for
// minutes when no Secret Service answers; a credential plugin must not.
const DefaultProbeTimeout = 3 * time.Second

// probeAccount is read (never written) to see whether the keyring answers.
const probeAccount = "probe"

// OpenOptions are the outside world Open works with.
type OpenOptions struct {
	Keyring      Keyring       // nil means no keyring on this machine
	Service      string        // keyring service; default DefaultService
	FileDir      string        // directory for the file store
	ProbeTimeout time.Duration // default DefaultProbeTimeout
}

// Notice is a one-time message for stderr, e.g. that tokens went to files
// because the keyring is unavailable. Empty when there is nothing to say.
type Notice string

// Open returns the selected store. "auto" prefers the keyring and falls back
// to files with a Notice; an explicit "keyring" that does not answer is an
// error.
func Open(sel Selection, opts OpenOptions) (Store, Notice, error) {
	switch sel {
	case SelectNone:
		return NoneStore{}, "", nil
	case SelectFile:
		s, err := NewFileStore(opts.FileDir)
		return s, "", err
	case SelectKeyring:
		if err := probe(opts); err != nil {
			return nil, "", fmt.Errorf("the OS keyring is unavailable: %w; start or unlock it, or pass --token-cache file%s", err, fileHint(opts.FileDir))
		}
		return &KeyringStore{Keyring: opts.Keyring, Service: opts.Service}, "", nil
	case SelectAuto, "":
		return openAuto(opts)
	}
	_, err := ParseSelection(string(sel))
	return nil, "", err
}

func openAuto(opts OpenOptions) (Store, Notice, error) {
	perr := probe(opts)
	if perr == nil {
		return &KeyringStore{Keyring: opts.Keyring, Service: opts.Service}, "", nil
	}
	s, err := NewFileStore(opts.FileDir)
	if err != nil {
		return nil, "", fmt.Errorf("the OS keyring is unavailable (%v) and the file store failed: %w", perr, err)
	}
	return s, Notice(fmt.Sprintf("OS keyring unavailable (%v); tokens are kept in %s (mode 0600)", perr, s.Dir())), nil
}

func fileHint(dir string) string {
	if dir == "" {
		return ""
	}
	return " to keep tokens in " + dir + " instead"
}

// probe reads an account that need not exist: "not found" means the keyring
// answers. It runs in a goroutine so a hung D-Bus call costs ProbeTimeout,
// not forever; the goroutine is left behind, which a short-lived plugin
// process can afford.
func probe(opts OpenOptions) error {
	if opts.Keyring == nil {
		return errors.New("no keyring on this system")
	}
	timeout := opts.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	service := opts.Service
	if service == "" {
		service = DefaultService
	}
	done := make(chan error, 1) // buffered: a late answer must not block the goroutine
	go func() {
		_, err := opts.Keyring.Get(service, probeAccount)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	case <-time.After(timeout):
		return fmt.Errorf("no answer within %s; is a Secret Service (gnome-keyring, KeePassXC) running and unlocked?", timeout)
	}
}
