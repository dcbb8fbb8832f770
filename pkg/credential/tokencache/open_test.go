package tokencache

import (
	"errors"
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
	s, notice, err := Open(SelectAuto, OpenOptions{Keyring: kr, FileDir: t.TempDir(), ProbeTimeout: 200 * time.Millisecond})
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

func TestOpenExplicitKeyringFailing(t *testing.T) {
	kr := newFakeKeyring()
	kr.getErr = errors.New("collection is locked")
	_, _, err := Open(SelectKeyring, OpenOptions{Keyring: kr, FileDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "collection is locked") || !strings.Contains(err.Error(), "--token-cache file") {
		t.Fatalf("Open = %v, want the problem and the --token-cache file hint", err)
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
