package tokenstore

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFileStoreRoundTripAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "tokens")
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := bigTokenSet(4000)
	if err := s.Put(testKey, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(testKey)
	if err != nil || got.RefreshToken != want.RefreshToken {
		t.Fatalf("Get = %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, testKey.ID()+".json"), 0o600)
}

func TestFileStoreWritesLeaveNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewFileStore(dir)
	for range 3 {
		if err := s.Put(testKey, bigTokenSet(100)); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != testKey.ID()+".json" {
		t.Fatalf("directory holds %v", entries)
	}
}

func TestFileStoreCorruptFile(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewFileStore(dir)
	if err := os.WriteFile(filepath.Join(dir, testKey.ID()+".json"), []byte(`{"id_token":"eyJ`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(testKey); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get = %v, want ErrCorrupt", err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("List = %v, %v; want the corrupt entry skipped", list, err)
	}
}

func TestFileStoreMissingAndDelete(t *testing.T) {
	s, _ := NewFileStore(t.TempDir())
	if _, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	if err := s.Delete(testKey); err != nil {
		t.Fatal(err)
	}
	_ = s.Put(testKey, bigTokenSet(10))
	if err := s.Delete(testKey); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
}

func TestFileStoreList(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewFileStore(dir)
	other := Key{Issuer: "https://other", ClientID: "c"}
	_ = s.Put(testKey, bigTokenSet(10))
	_ = s.Put(other, bigTokenSet(10))
	_ = os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	list, err := s.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d, %v", len(list), err)
	}
}

func TestFileStoreTightensLooseDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := filepath.Join(t.TempDir(), "tokens")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // umask may have masked it
		t.Fatal(err)
	}
	if _, err := NewFileStore(dir); err != nil {
		t.Fatal(err)
	}
	assertMode(t, dir, 0o700)
}

func TestFileStoreRefusesDirItCannotTighten(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs Unix modes and a non-root user (root may chmod anything)")
	}
	// /tmp is world-writable and owned by root, so we may not chmod it.
	if fi, err := os.Stat("/tmp"); err != nil || fi.Mode().Perm()&0o077 == 0 {
		t.Skip("no shared /tmp")
	}
	_, err := NewFileStore("/tmp")
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("NewFileStore(/tmp) = %v, want a refusal naming the fix", err)
	}
}

func TestFileStoreRefusesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	_ = os.WriteFile(path, nil, 0o600)
	if _, err := NewFileStore(path); err == nil {
		t.Fatal("want an error for a file in place of the directory")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s has mode %04o, want %04o", path, got, want)
	}
}
