package kubeconfig

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd/api"
)

// largeConfig is a kubeconfig with n clusters, users and contexts, each
// cluster with a certificate-sized CA and each user a token, like a fleet
// operator's merged kubeconfig (bench-use uses 2,000 with real CAs).
func largeConfig(n int) string {
	ca := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("-----CERT-----\n"), 80)) // ~1.7 KB, as an RSA-2048 CA
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\ncurrent-context: ctx-0\nclusters:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- name: c-%d\n  cluster:\n    server: https://c-%d.example.com:6443\n    certificate-authority-data: %s\n", i, i, ca)
	}
	b.WriteString("users:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- name: u-%d\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.%s.sig\n", i, strings.Repeat("x", 600))
	}
	b.WriteString("contexts:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- name: ctx-%d\n  context:\n    cluster: c-%d\n    user: u-%d\n", i, i, i)
	}
	return b.String()
}

// BenchmarkModifyLarge is `use` switching current-context on a 2,000-context
// kubeconfig: lock, read, merge, edit, serialize, compare, atomic write.
func BenchmarkModifyLarge(b *testing.B) {
	s := largeStore(b)
	for i := 0; i < b.N; i++ {
		ctx := fmt.Sprintf("ctx-%d", 1+i%2)
		if _, err := s.Modify(func(cfg *api.Config) error { cfg.CurrentContext = ctx; return nil }, ModifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadLarge is reading and merging the same kubeconfig.
func BenchmarkLoadLarge(b *testing.B) {
	s := largeStore(b)
	for i := 0; i < b.N; i++ {
		if _, err := s.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

// largeStore is a Store on a 2,000-context kubeconfig, with the benchmark
// timer reset after writing it.
func largeStore(b *testing.B) *Store {
	path := filepath.Join(b.TempDir(), "config")
	writeFile(b, path, largeConfig(2000), 0o600)
	b.ResetTimer()
	return &Store{ExplicitPath: path}
}
