package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"math/rand/v2"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// createTemp creates a new temp file in dir. A file for the user alone (a
// mode with no group or other bits: tokens, approvals) is created with an
// owner-only ACL (userfile.CreatePrivate): chmod on Windows only toggles
// the read-only attribute, and the inherited ACL is whatever the directory
// passes down. Other files inherit it, as any program's do.
func createTemp(dir, prefix string, mode os.FileMode) (*os.File, error) {
	if mode&0o077 != 0 {
		return os.CreateTemp(dir, prefix+"*")
	}
	for range 10000 {
		f, err := userfile.CreatePrivate(filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)))
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, &fs.PathError{Op: "createtemp", Path: filepath.Join(dir, prefix+"*"), Err: fs.ErrExist}
}
