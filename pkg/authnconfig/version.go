package authnconfig

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The file versions securekapi writes, spelled out rather than taken from
// k8s.io/apiserver's packages, which would link its metrics and tracing
// into the everyday CLI; kubeapiserver's tests hold them equal.
var (
	V1      = schema.GroupVersion{Group: "apiserver.config.k8s.io", Version: "v1"}      // GA in 1.34
	V1beta1 = schema.GroupVersion{Group: "apiserver.config.k8s.io", Version: "v1beta1"} // 1.30 and later
)

// The first minor release of Kubernetes 1.x that reads each file version.
const (
	firstV1beta1Minor = 30
	firstV1Minor      = 34
)

// ServerVersion is a kube-apiserver's major.minor, as discovery reports it.
type ServerVersion struct{ Major, Minor int }

func (v ServerVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// leadingDigits drops a suffix: managed clusters report minors such as "30+".
func leadingDigits(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		return s
	}
	return s[:end]
}

// ParseServerVersion reads the major and minor fields of /version.
func ParseServerVersion(major, minor string) (ServerVersion, error) {
	ma, err1 := strconv.Atoi(leadingDigits(major))
	mi, err2 := strconv.Atoi(leadingDigits(minor))
	if err1 != nil || err2 != nil {
		return ServerVersion{}, fmt.Errorf("API server reports version %q.%q, which is not major.minor", major, minor)
	}
	return ServerVersion{Major: ma, Minor: mi}, nil
}

// ParseFileVersion reads a --api-version value: v1, v1beta1, or the full
// group/version.
func ParseFileVersion(s string) (schema.GroupVersion, error) {
	switch s {
	case "v1", V1.String():
		return V1, nil
	case "v1beta1", V1beta1.String():
		return V1beta1, nil
	}
	return schema.GroupVersion{}, fmt.Errorf("file version %q: securekapi writes v1 (Kubernetes 1.34+) or v1beta1 (1.30+)", s)
}

// ChooseFileVersion picks the file version for a server: the one asked
// for, when the server reads it, else the newest it reads. It refuses a
// server that reads neither, and an asked-for version the server does not
// read, saying which one it does.
func ChooseFileVersion(server *ServerVersion, asked *schema.GroupVersion) (schema.GroupVersion, error) {
	if server == nil {
		if asked == nil {
			return schema.GroupVersion{}, fmt.Errorf("no API server version to pick the file version from: pass --api-version v1 (Kubernetes 1.34+) or v1beta1 (1.30+), or a kubeconfig that reaches the cluster")
		}
		return *asked, nil
	}
	if server.Major != 1 || server.Minor < firstV1beta1Minor {
		return schema.GroupVersion{}, fmt.Errorf("kube-apiserver %s has no structured authentication configuration securekapi can write (v1beta1 needs 1.30, v1 needs 1.34): upgrade the cluster, or keep its --oidc-* flags", server)
	}
	newest := V1beta1
	if server.Minor >= firstV1Minor {
		newest = V1
	}
	if asked == nil {
		return newest, nil
	}
	if *asked == V1 && server.Minor < firstV1Minor {
		return schema.GroupVersion{}, fmt.Errorf("kube-apiserver %s does not read %s (GA in 1.34): pass --api-version v1beta1", server, V1)
	}
	return *asked, nil
}

// Target is the API server a file is checked for.
type Target struct {
	// Version of kube-apiserver; nil checks with the linked k8s.io/apiserver's own.
	Version *ServerVersion
	// ServiceAccountIssuers are the cluster's --service-account-issuer
	// values, which kube-apiserver refuses as JWT issuers.
	ServiceAccountIssuers []string
	// Providers names the CI provider of an issuer URL, for the policy's
	// claim check; GitHub's public issuer is known without it.
	Providers map[string]Provider
}
