package callerconfig

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// fleet is a kubeconfig of n clusters, each with its CA inline: the file
// MentionsCAFile reads through on every kubectl call.
func fleet(n int) []byte {
	var sb strings.Builder
	ca := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("certificate bytes ", 60)))
	sb.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "- name: cluster-%d\n  cluster:\n    server: https://kapi-%d.example.com:6443\n    certificate-authority-data: %s\n", i, i, ca)
	}
	sb.WriteString("contexts:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "- name: ctx-%d\n  context: {cluster: cluster-%d, user: u}\n", i, i)
	}
	sb.WriteString("users:\n- name: u\n  user:\n    exec:\n      command: kubectl-securekapi\n      args: [credential]\n")
	return []byte(sb.String())
}

// BenchmarkMentionsCAFile scans a one-cluster kubeconfig and a fleet's
// (1,000 clusters, 1.6 MB).
func BenchmarkMentionsCAFile(b *testing.B) {
	for _, n := range []int{1, 1000} {
		data := fleet(n)
		b.Run(fmt.Sprint(len(data)), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if MentionsCAFile(data) {
					b.Fatal("mentions")
				}
			}
		})
	}
}
