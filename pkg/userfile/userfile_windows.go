//go:build windows

package userfile

import (
	"io/fs"
	"os"
)

// On Windows, files carry ACLs, not modes; the ACL checks are not written
// yet (SECURITY.md says so), so only the kind and size checks apply.
func openNoFollowBlock(path string) (*os.File, error) { return os.Open(path) }

type rule int

const (
	trustFile rule = iota
	privateDir
	privateFile
)

func ownedSafely(string, fs.FileInfo, rule) error { return nil }

func ancestorSafe(string, fs.FileInfo) error { return nil }

func linkSafe(string, fs.FileInfo) error { return nil }
