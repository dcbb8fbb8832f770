package tokenstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseSelection(t *testing.T) {
	for _, s := range []string{"auto", "keyring", "file", "none", " File "} {
		if _, err := ParseSelection(s); err != nil {
			t.Errorf("ParseSelection(%q) = %v", s, err)
		}
	}
	_, err := ParseSelection("disk")
	if err == nil || !strings.Contains(err.Error(), "auto") || !strings.Contains(err.Error(), "none") {
		t.Fatalf("ParseSelection(disk) = %v, want the valid values listed", err)
	}
}

func TestOpenAutoUsesWorkingKeyring(t *testing.T) {
	s, notice, err := Open(SelectAuto, OpenOptions{Keyring: newFakeKeyring(), FileDir: t.TempDir()})
	if err != nil || notice != "" || s.Kind() != "keyring" {
		t.Fatalf("Open = %v, %q, %v", s, notice, err)
	}
	if !strings.Contains(s.Location(), "service securekapi") {
		t.Fatalf("Location = %q", s.Location())
	}
}

func TestOpenAutoFallsBackWhenKeyringErrors(t *testing.T) {
	kr := newFakeKeyring()
	kr.getErr = errors.New("org.freedesktop.DBus.Error.ServiceUnknown")
	dir := t.TempDir()
	s, notice, err := Open(SelectAuto, OpenOptions{Keyring: kr, FileDir: dir})
	if err != nil || s.Kind() != "file" {
		t.Fatalf("Open = %v, %v", s, err)
	}
	if !strings.Contains(string(notice), "ServiceUnknown") || !strings.Contains(string(notice), dir) {
		t.Fatalf("notice = %q, want the reason and the directory", notice)
	}
}

func TestOpenAutoFallsBackWhenKeyringHangs(t *testing.T) {
	kr := newFakeKeyring()
	kr.hang = true
	s, notice, err := Open(SelectAuto, OpenOptions{Keyring: kr, FileDir: t.TempDir(), Timeout: 200 * time.Millisecond})
	if err != nil || s.Kind() != "file" || notice == "" {
		t.Fatalf("Open = %v, %q, %v", s, notice, err)
	}
}

func TestOpenAutoWithoutKeyring(t *testing.T) {
	s, notice, err := Open(SelectAuto, OpenOptions{FileDir: t.TempDir()})
	if err != nil || s.Kind() != "file" || notice == "" {
		t.Fatalf("Open = %v, %q, %v", s, notice, err)
	}
}

func TestOpenExplicitKeyringFailsOnFirstRead(t *testing.T) {
	kr := newFakeKeyring()
	kr.getErr = errors.New("collection is locked")
	s, _, err := Open(SelectKeyring, OpenOptions{Keyring: kr, FileDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open = %v; an explicit keyring is not probed", err)
	}
	_, err = s.Get(testKey)
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "collection is locked") || !strings.Contains(err.Error(), "--token-cache file") {
		t.Fatalf("Get = %v, want the problem and the --token-cache file hint", err)
	}
}

func TestOpenExplicitKeyringMakesNoExtraCalls(t *testing.T) {
	kr := newFakeKeyring()
	s, _, err := Open(SelectKeyring, OpenOptions{Keyring: kr, FileDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(testKey, bigTokenSet(3000)); err != nil {
		t.Fatal(err)
	}
	before := kr.gets.Load()
	if _, err := s.Get(testKey); err != nil {
		t.Fatal(err)
	}
	// A 3 KB token set in 2 KiB chunks: the head and one chunk, no probe.
	if n := kr.gets.Load() - before; n != 2 {
		t.Fatalf("Get made %d keyring reads, want 2", n)
	}
}

func TestOpenExplicitKeyringHangingIsBounded(t *testing.T) {
	kr := newFakeKeyring()
	kr.hang = true
	s, _, err := Open(SelectKeyring, OpenOptions{Keyring: kr, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Get(testKey)
	if err == nil || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Fatalf("Get = %v, want a timeout", err)
	}
	// Once stuck, later calls fail at once instead of waiting again.
	if err := s.Put(testKey, bigTokenSet(1)); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("Put after a timeout = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("two calls on a hung keyring took %s", d)
	}
}

func TestOpenExplicitKeyringWithoutKeyring(t *testing.T) {
	_, _, err := Open(SelectKeyring, OpenOptions{FileDir: "/some/dir"})
	if err == nil || !strings.Contains(err.Error(), "--token-cache file to keep tokens in /some/dir") {
		t.Fatalf("Open = %v", err)
	}
}

func TestOpenFileAndNone(t *testing.T) {
	s, _, err := Open(SelectFile, OpenOptions{FileDir: t.TempDir()})
	if err != nil || s.Kind() != "file" {
		t.Fatalf("file: %v, %v", s, err)
	}
	s, _, err = Open(SelectNone, OpenOptions{})
	if err != nil || s.Kind() != "none" {
		t.Fatalf("none: %v, %v", s, err)
	}
	if err := s.Put(testKey, bigTokenSet(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("none store kept a token: %v", err)
	}
	if _, _, err := Open(SelectFile, OpenOptions{}); err == nil {
		t.Fatal("file store without a directory should fail")
	}
}

func TestUnreadable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{ErrNotFound, false},
		{fmt.Errorf("token file x: %w", ErrNotFound), false},
		{fmt.Errorf("keyring entry x: %w", ErrCorrupt), false},
		{errors.New("failed to unlock correct collection"), true},
		{fmt.Errorf("read keyring entry x: %w", errors.New("no answer within 3s")), true},
	} {
		if got := Unreadable(c.err); got != c.want {
			t.Errorf("Unreadable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
