//go:build unix

package userfile

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheckTrustFile checks the system bundle by path, as the exec
// path checks SSL_CERT_FILE on every kubectl call where it is set.
func BenchmarkCheckTrustFile(b *testing.B) {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(bundle); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if err := CheckTrustFile(bundle); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheDirAndApprovals is the exec path's cache directory check
// and approvals read.
func BenchmarkCacheDirAndApprovals(b *testing.B) {
	dir := b.TempDir()
	approvals := write(b, filepath.Join(dir, "approvals.json"), `{"version":1}`, 0o600)
	for b.Loop() {
		if err := CheckPrivateDir(dir); err != nil {
			b.Fatal(err)
		}
		if _, err := ReadPrivateFile(approvals); err != nil {
			b.Fatal(err)
		}
	}
}
