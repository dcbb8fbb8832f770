package tokenstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// chunkedKeyring stores one value under an account as a head entry plus
// chunk entries, because Windows and macOS reject large secrets.
//
// The head, "<account>", is "securekapi-chunks v1 slot=S n=N sha256=H\n"
// followed by the first chunk; the others are "<account>#S1" ... "#S(N-1)".
// A write fills the slot the head does not point at, then rewrites the head
// (a single keyring write, so it is the commit point), then removes the old
// slot. A crash before the commit leaves the previous version readable; any
// mix of versions fails the checksum and reads as ErrCorrupt, never as a
// wrong token.
type chunkedKeyring struct {
	kr      Keyring
	service string
	size    int
}

const (
	headerMagic = "securekapi-chunks v1"
	// maxChunks bounds what a damaged header can make us fetch or delete.
	maxChunks = 1000
	// readRetries is how often a read that raced a writer starts over.
	readRetries = 2
)

type header struct {
	slot string // "a" or "b"
	n    int    // entries, head included
	sum  string // hex SHA-256 of the whole value
}

func (c *chunkedKeyring) read(account string) ([]byte, error) {
	head, err := c.get(account)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		data, err := c.assemble(account, head)
		if !errors.Is(err, ErrCorrupt) || try == readRetries {
			return data, err
		}
		// A writer may have committed and removed the chunks we were
		// reading. If the head moved, read the new version instead.
		next, nerr := c.get(account)
		if nerr != nil || next == head {
			return nil, err
		}
		head = next
	}
}

func (c *chunkedKeyring) assemble(account, head string) ([]byte, error) {
	line, first, ok := strings.Cut(head, "\n")
	h, herr := parseHeader(line)
	if !ok || herr != nil {
		return nil, fmt.Errorf("keyring entry %s has no valid header: %w", account, ErrCorrupt)
	}
	var b strings.Builder
	b.WriteString(first)
	for i := 1; i < h.n; i++ {
		part, err := c.get(chunkAccount(account, h.slot, i))
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("keyring entry %s: chunk %d of %d is missing: %w", account, i+1, h.n, ErrCorrupt)
		}
		if err != nil {
			return nil, err
		}
		b.WriteString(part)
	}
	if checksum(b.String()) != h.sum {
		return nil, fmt.Errorf("keyring entry %s fails its checksum (a write was interrupted or the entry was edited): %w", account, ErrCorrupt)
	}
	return []byte(b.String()), nil
}

func (c *chunkedKeyring) write(account string, data []byte) error {
	slot, oldN := "a", 0
	if old, err := c.get(account); err == nil {
		if h, ok := headerOf(old); ok {
			slot, oldN = other(h.slot), h.n
		}
	}
	parts := split(string(data), c.size)
	if len(parts) > maxChunks {
		// The header could not name them, so the value would read back as
		// corrupt after the old one was removed.
		return fmt.Errorf("keyring entry %s: %d bytes need %d entries of %d bytes, more than the %d one entry may span; use --token-cache file",
			account, len(data), len(parts), c.size, maxChunks)
	}
	for i := 1; i < len(parts); i++ {
		if err := c.set(chunkAccount(account, slot, i), parts[i]); err != nil {
			return err
		}
	}
	h := header{slot: slot, n: len(parts), sum: checksum(string(data))}
	if err := c.set(account, h.String()+"\n"+parts[0]); err != nil {
		return err
	}
	// Committed. Leftovers are unreachable, so failing to remove them is
	// not worth failing the write over.
	_ = c.removeSlot(account, other(slot), 1, oldN)
	_ = c.removeSlot(account, slot, len(parts), 0)
	return nil
}

// remove deletes the head first, so a crash midway leaves no readable
// half-entry, then both slots.
func (c *chunkedKeyring) remove(account string) error {
	n := 0
	if old, err := c.get(account); err == nil {
		if h, ok := headerOf(old); ok {
			n = h.n
		}
	}
	if err := c.del(account); err != nil {
		return err
	}
	if err := c.removeSlot(account, "a", 1, n); err != nil {
		return err
	}
	return c.removeSlot(account, "b", 1, n)
}

// removeSlot deletes chunks from index `from` until one is missing past
// index `known` (the count a header promised, so a gap does not stop us
// early).
func (c *chunkedKeyring) removeSlot(account, slot string, from, known int) error {
	for i := from; i < maxChunks; i++ {
		err := c.kr.Delete(c.service, chunkAccount(account, slot, i))
		if errors.Is(err, ErrNotFound) {
			if i >= known {
				return nil
			}
			continue
		}
		if err != nil {
			return c.fail("delete", chunkAccount(account, slot, i), err, "")
		}
	}
	return nil
}

func (c *chunkedKeyring) get(account string) (string, error) {
	v, err := c.kr.Get(c.service, account)
	if errors.Is(err, ErrNotFound) {
		return "", err
	}
	if err != nil {
		return "", c.fail("read", account, err, "")
	}
	return v, nil
}

func (c *chunkedKeyring) set(account, value string) error {
	if err := c.kr.Set(c.service, account, value); err != nil {
		return c.fail("write", account, err, value)
	}
	return nil
}

func (c *chunkedKeyring) del(account string) error {
	err := c.kr.Delete(c.service, account)
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return c.fail("delete", account, err, "")
}

// fail wraps a keyring error with the entry and the way out. The backend's
// text is kept only if it does not quote the value being written.
func (c *chunkedKeyring) fail(op, account string, err error, value string) error {
	return fmt.Errorf("%s keyring entry %s (service %s): %w; if the keyring is locked or unavailable, unlock it or use --token-cache file",
		op, account, c.service, scrub(err, value))
}

func chunkAccount(account, slot string, i int) string {
	return fmt.Sprintf("%s#%s%d", account, slot, i)
}

func other(slot string) string {
	if slot == "a" {
		return "b"
	}
	return "a"
}

func (h header) String() string {
	return fmt.Sprintf("%s slot=%s n=%d sha256=%s", headerMagic, h.slot, h.n, h.sum)
}

func headerOf(head string) (header, bool) {
	line, _, _ := strings.Cut(head, "\n")
	h, err := parseHeader(line)
	return h, err == nil
}

func parseHeader(line string) (header, error) {
	var h header
	rest, ok := strings.CutPrefix(line, headerMagic+" ")
	if !ok {
		return h, errors.New("unknown header")
	}
	if _, err := fmt.Sscanf(rest, "slot=%s n=%d sha256=%s", &h.slot, &h.n, &h.sum); err != nil {
		return h, errors.New("malformed header")
	}
	if (h.slot != "a" && h.slot != "b") || h.n < 1 || h.n > maxChunks || len(h.sum) != sha256.Size*2 {
		return h, errors.New("header out of range")
	}
	return h, nil
}

func checksum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// split cuts s into pieces of at most size bytes, at UTF-8 character
// boundaries so that every piece is valid text for backends that want it.
func split(s string, size int) []string {
	var parts []string
	for len(s) > size {
		cut := size
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = size
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return append(parts, s)
}
