// The ExecCredential wire between kubectl and the plugin: the request
// kubectl passes in KUBERNETES_EXEC_INFO, and the one ExecCredential kubectl
// reads back.
//
// Its own few wire structs instead of client-go's clientauthentication
// types: linking those runs apimachinery's package init (about 1.7x a bare
// Go process) on every kubectl call. The structs carry client-go's JSON
// names exactly; wire_test.go holds them to the contract by decoding what
// is written with client-go's v1 and v1beta1 types (and comparing the
// bytes), and test/e2e runs the real kubectl 1.27 to 1.33 and 1.37 against
// it. The credential is written with json.Marshal on those structs: the
// hand-assembled bytes it replaced measured the same (issue #24).

package execplugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/safetext"
)

// The API versions kubectl may speak.
const (
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
)

const (
	envName = "KUBERNETES_EXEC_INFO"
	kind    = "ExecCredential"
)

// Request is what kubectl asked for.
type Request struct {
	APIVersion  string // V1 or V1beta1; the reply must use the same
	Interactive bool   // a person is at the terminal and may log in
	Cluster     *binding.Cluster
}

const manualHint = `this command is meant to be called by kubectl through a kubeconfig exec stanza (run "kubectl securekapi use" to write one). To run it by hand, set the variable kubectl would set:
  KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}' kubectl-securekapi credential ...`

// ReadRequest parses KUBERNETES_EXEC_INFO from getenv.
func ReadRequest(getenv func(string) string) (*Request, error) {
	raw := getenv(envName)
	if raw == "" {
		return nil, fmt.Errorf("%s is not set: %s", envName, manualHint)
	}
	// One decode serves the usual request; the kind and apiVersion alone
	// are decoded again only to explain a request that does not match, so
	// every call on the exec hot path pays for one JSON decode.
	var ec execCredential
	decodeErr := json.Unmarshal([]byte(raw), &ec)
	meta := struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}{ec.Kind, ec.APIVersion}
	if decodeErr != nil {
		if err := json.Unmarshal([]byte(raw), &meta); err != nil {
			return nil, fmt.Errorf("%s is not valid JSON (%v); kubectl sets it to an ExecCredential object", envName, err)
		}
	}
	if meta.Kind != kind {
		return nil, fmt.Errorf("%s has kind %q, want %q", envName, meta.Kind, kind)
	}
	switch meta.APIVersion {
	case V1, V1beta1:
	default:
		return nil, fmt.Errorf("%s has apiVersion %q, which this securekapi does not speak; set the exec stanza's apiVersion to %s (or %s)",
			envName, meta.APIVersion, V1, V1beta1)
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("%s does not match ExecCredential %s: %v", envName, meta.APIVersion, decodeErr)
	}
	if c := ec.Spec.Cluster; c != nil {
		if err := checkServerName(c.TLSServerName); err != nil {
			return nil, fmt.Errorf("%s has cluster tls-server-name %s; fix the kubeconfig cluster's tls-server-name", envName, err)
		}
	}
	return requestFrom(&ec), nil
}

// checkServerName refuses a tls-server-name no TLS server has: one that
// was not valid UTF-8 (the JSON decoder turned such bytes into U+FFFD), or
// holds a control character. It would only ever fail the binding, and
// would reach messages.
func checkServerName(name string) error {
	if strings.ContainsRune(name, utf8.RuneError) {
		return fmt.Errorf("%s: it is not valid UTF-8, which no TLS server name is", safetext.Quote(name))
	}
	if err := safetext.Check(name, safetext.MaxHostName); err != nil {
		return err
	}
	return nil
}

// execCredential is the part of client.authentication.k8s.io ExecCredential
// (v1 and v1beta1 share this shape) that securekapi reads and writes. The
// JSON names are client-go's (k8s.io/client-go/pkg/apis/clientauthentication).
type execCredential struct {
	Kind       string                `json:"kind,omitempty"`
	APIVersion string                `json:"apiVersion,omitempty"`
	Spec       execCredentialSpec    `json:"spec"`
	Status     *execCredentialStatus `json:"status,omitempty"`
}

type execCredentialSpec struct {
	Cluster     *wireCluster `json:"cluster,omitempty"`
	Interactive bool         `json:"interactive"`
}

type wireCluster struct {
	Server                   string          `json:"server"`
	TLSServerName            string          `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool            `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthorityData []byte          `json:"certificate-authority-data,omitempty"`
	ProxyURL                 string          `json:"proxy-url,omitempty"`
	DisableCompression       bool            `json:"disable-compression,omitempty"`
	Config                   json.RawMessage `json:"config,omitempty"`
}

type execCredentialStatus struct {
	// ExpirationTimestamp is RFC 3339 in UTC, to the second, as metav1.Time
	// writes it.
	ExpirationTimestamp *string `json:"expirationTimestamp,omitempty"`
	Token               string  `json:"token,omitempty"`
}

func requestFrom(ec *execCredential) *Request {
	r := &Request{APIVersion: ec.APIVersion, Interactive: ec.Spec.Interactive}
	if c := ec.Spec.Cluster; c != nil {
		r.Cluster = &binding.Cluster{Server: c.Server, TLSServerName: c.TLSServerName, ProxyURL: c.ProxyURL,
			CAData: c.CertificateAuthorityData, InsecureSkipTLSVerify: c.InsecureSkipTLSVerify, Config: rawConfig(c.Config)}
	}
	return r
}

// rawConfig keeps the exec extension's JSON; an absent or null config is
// nil, as client-go's runtime.RawExtension has it.
func rawConfig(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return []byte(raw)
}

// WriteCredential writes one ExecCredential in apiVersion carrying token and
// its expiry (RFC 3339, UTC; kubectl asks again after it). A zero expiry is
// left out, and kubectl then keeps the token until the server rejects it.
func WriteCredential(w io.Writer, apiVersion, token string, expiry time.Time) error {
	if token == "" {
		return errors.New("refusing to write an ExecCredential without a token")
	}
	switch apiVersion {
	case V1, V1beta1:
	default:
		return fmt.Errorf("cannot write an ExecCredential in apiVersion %q; use %s or %s", apiVersion, V1, V1beta1)
	}
	out := execCredential{Kind: kind, APIVersion: apiVersion, Status: &execCredentialStatus{Token: token}}
	if !expiry.IsZero() {
		ts := expiry.UTC().Format(time.RFC3339)
		out.Status.ExpirationTimestamp = &ts
	}
	data, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode the ExecCredential: %w", err)
	}
	data = append(data, '\n')
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write the ExecCredential to kubectl: %w", err)
	}
	return nil
}
