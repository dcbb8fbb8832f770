package kubeconfig

import (
	"slices"

	"k8s.io/client-go/tools/clientcmd"
)

// CAFileClusters names the clusters of a kubeconfig's bytes whose server
// is server (as same reports) and that take their CA from a file
// (certificate-authority), parsed by client-go as kubectl parses them. The
// credential path refuses such clusters (callerconfig.Check).
func CAFileClusters(data []byte, server string, same func(a, b string) bool) ([]string, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, err
	}
	var names []string
	for name, c := range cfg.Clusters {
		if c.CertificateAuthority != "" && same(c.Server, server) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}
