//go:build !unix

package localproxy

// openFileLimit: Windows has no per-process descriptor limit as low as a
// Unix soft limit, so the default cap applies.
func openFileLimit() (int64, bool) { return 0, false }
