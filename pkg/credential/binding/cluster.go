package binding

// Cluster is the cluster kubectl is about to call, present when the exec
// stanza sets provideClusterInfo.
type Cluster struct {
	Server                string
	TLSServerName         string
	ProxyURL              string
	CAData                []byte // PEM, decoded from the base64 in the JSON
	InsecureSkipTLSVerify bool
	Config                []byte // the exec extension's raw JSON; nil when absent
}
