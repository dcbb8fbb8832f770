// Package execinfo owns the ExecCredential wire format between kubectl and
// the credential plugin: it reads the request kubectl passes in
// KUBERNETES_EXEC_INFO and writes the one ExecCredential kubectl reads back.
//
// It uses the client-go API types with encoding/json only; building a
// runtime.Scheme would cost startup time on every kubectl call.
package execinfo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"
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
	Cluster     *Cluster
}

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

const manualHint = `this command is meant to be called by kubectl through a kubeconfig exec stanza (run "kubectl securekapi use" to write one). To run it by hand, set the variable kubectl would set:
  KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}' kubectl-securekapi credential ...`

// ReadRequest parses KUBERNETES_EXEC_INFO from getenv.
func ReadRequest(getenv func(string) string) (*Request, error) {
	raw := getenv(envName)
	if raw == "" {
		return nil, fmt.Errorf("%s is not set: %s", envName, manualHint)
	}
	var meta metav1.TypeMeta
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON (%v); kubectl sets it to an ExecCredential object", envName, err)
	}
	if meta.Kind != kind {
		return nil, fmt.Errorf("%s has kind %q, want %q", envName, meta.Kind, kind)
	}
	switch meta.APIVersion {
	case V1:
		return readV1(raw)
	case V1beta1:
		return readV1beta1(raw)
	}
	return nil, fmt.Errorf("%s has apiVersion %q, which this securekapi does not speak; set the exec stanza's apiVersion to %s (or %s)",
		envName, meta.APIVersion, V1, V1beta1)
}

func readV1(raw string) (*Request, error) {
	var ec clientauthv1.ExecCredential
	if err := json.Unmarshal([]byte(raw), &ec); err != nil {
		return nil, fmt.Errorf("%s does not match ExecCredential %s: %v", envName, V1, err)
	}
	r := &Request{APIVersion: V1, Interactive: ec.Spec.Interactive}
	if c := ec.Spec.Cluster; c != nil {
		r.Cluster = &Cluster{Server: c.Server, TLSServerName: c.TLSServerName, ProxyURL: c.ProxyURL,
			CAData: c.CertificateAuthorityData, InsecureSkipTLSVerify: c.InsecureSkipTLSVerify, Config: c.Config.Raw}
	}
	return r, nil
}

func readV1beta1(raw string) (*Request, error) {
	var ec clientauthv1beta1.ExecCredential
	if err := json.Unmarshal([]byte(raw), &ec); err != nil {
		return nil, fmt.Errorf("%s does not match ExecCredential %s: %v", envName, V1beta1, err)
	}
	r := &Request{APIVersion: V1beta1, Interactive: ec.Spec.Interactive}
	if c := ec.Spec.Cluster; c != nil {
		r.Cluster = &Cluster{Server: c.Server, TLSServerName: c.TLSServerName, ProxyURL: c.ProxyURL,
			CAData: c.CertificateAuthorityData, InsecureSkipTLSVerify: c.InsecureSkipTLSVerify, Config: c.Config.Raw}
	}
	return r, nil
}

// WriteCredential writes one ExecCredential in apiVersion carrying token and
// its expiry (RFC 3339, UTC; kubectl asks again after it). A zero expiry is
// left out, and kubectl then keeps the token until the server rejects it.
func WriteCredential(w io.Writer, apiVersion, token string, expiry time.Time) error {
	if token == "" {
		return errors.New("refusing to write an ExecCredential without a token")
	}
	var exp *metav1.Time
	if !expiry.IsZero() {
		t := metav1.NewTime(expiry.UTC())
		exp = &t
	}
	var v any
	switch apiVersion {
	case V1:
		v = clientauthv1.ExecCredential{
			TypeMeta: metav1.TypeMeta{APIVersion: V1, Kind: kind},
			Status:   &clientauthv1.ExecCredentialStatus{Token: token, ExpirationTimestamp: exp},
		}
	case V1beta1:
		v = clientauthv1beta1.ExecCredential{
			TypeMeta: metav1.TypeMeta{APIVersion: V1beta1, Kind: kind},
			Status:   &clientauthv1beta1.ExecCredentialStatus{Token: token, ExpirationTimestamp: exp},
		}
	default:
		return fmt.Errorf("cannot write an ExecCredential in apiVersion %q; use %s or %s", apiVersion, V1, V1beta1)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return errors.New("encode the ExecCredential") // the text could quote the token
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write the ExecCredential to kubectl: %w", err)
	}
	return nil
}
