//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// copyOwner is a no-op where files have no Unix owner.
func copyOwner(*os.File, fs.FileInfo) {}
