package execplugin

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
)

// FuzzReadRequest: KUBERNETES_EXEC_INFO is outside input (anything that can
// set the environment). ReadRequest never panics, accepts only the two
// versions it speaks and only a tls-server-name of valid text, says which variable is wrong when it refuses, and what
// it accepts survives being written back as kubectl would and read again.
func FuzzReadRequest(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`,
		`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{}}`,
		`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false,"cluster":{` +
			`"server":"https://kapi.example.com:6443","tls-server-name":"kapi.internal","proxy-url":"socks5://localhost:1080",` +
			`"certificate-authority-data":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t","insecure-skip-tls-verify":true,` +
			`"config":{"pin":"sha256:abc","n":[1, 2]}}}}`,
		`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"cluster":{"server":"s","config":null}}}`,
		`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"cluster":{"certificate-authority-data":"!!"}}}`,
		`{"apiVersion":"client.authentication.k8s.io/v2","kind":"ExecCredential"}`,
		`{"kind":"ExecCredential","kind":"Pod"}`,
		`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":[]}`,
		``, `null`, `{`, `[]`, `"x"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := ReadRequest(env(raw))
		if err != nil {
			if r != nil {
				t.Fatalf("ReadRequest returned %+v with error %v", r, err)
			}
			if !strings.Contains(err.Error(), "KUBERNETES_EXEC_INFO") {
				t.Fatalf("error does not name the variable: %v", err)
			}
			return
		}
		if r.APIVersion != V1 && r.APIVersion != V1beta1 {
			t.Fatalf("accepted apiVersion %q", r.APIVersion)
		}
		if r.Cluster != nil && checkServerName(r.Cluster.TLSServerName) != nil {
			t.Fatalf("accepted tls-server-name %q", r.Cluster.TLSServerName)
		}
		if r.Cluster != nil && r.Cluster.Config != nil && !json.Valid(r.Cluster.Config) {
			t.Fatalf("cluster config is not JSON: %q", r.Cluster.Config)
		}
		again, err := ReadRequest(env(string(rewrite(t, r))))
		if err != nil {
			t.Fatalf("re-read of %+v: %v", r, err)
		}
		if !sameRequest(r, again) {
			t.Fatalf("round trip changed the request:\nfirst  %+v %+v\nsecond %+v %+v", r, r.Cluster, again, again.Cluster)
		}
	})
}

// rewrite encodes r the way kubectl does (the v1 and v1beta1 specs have the
// same JSON shape).
func rewrite(t *testing.T, r *Request) []byte {
	ec := clientauthv1.ExecCredential{Spec: clientauthv1.ExecCredentialSpec{Interactive: r.Interactive}}
	if c := r.Cluster; c != nil {
		ec.Spec.Cluster = &clientauthv1.Cluster{Server: c.Server, TLSServerName: c.TLSServerName, ProxyURL: c.ProxyURL,
			CertificateAuthorityData: c.CAData, InsecureSkipTLSVerify: c.InsecureSkipTLSVerify, Config: runtime.RawExtension{Raw: c.Config}}
	}
	ec.APIVersion, ec.Kind = r.APIVersion, "ExecCredential"
	data, err := json.Marshal(ec)
	if err != nil {
		t.Fatalf("encode %+v: %v", r, err)
	}
	return data
}

// sameRequest compares requests, the extension JSON by meaning (kubectl's
// encoder may escape it differently: encoding/json writes "&" as "\u0026"
// in a RawExtension) and absent CA data equal to empty CA data (both mean
// "no CA data").
func sameRequest(a, b *Request) bool {
	if a.APIVersion != b.APIVersion || a.Interactive != b.Interactive || (a.Cluster == nil) != (b.Cluster == nil) {
		return false
	}
	if a.Cluster == nil {
		return true
	}
	x, y := *a.Cluster, *b.Cluster
	if !bytes.Equal(x.CAData, y.CAData) || !sameJSON(x.Config, y.Config) {
		return false
	}
	x.CAData, y.CAData, x.Config, y.Config = nil, nil, nil, nil
	return reflect.DeepEqual(x, y)
}

// sameJSON reports whether two JSON documents hold the same value, numbers
// compared as written.
func sameJSON(a, b []byte) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	x, errX := decodeJSON(a)
	y, errY := decodeJSON(b)
	return errX == nil && errY == nil && reflect.DeepEqual(x, y)
}

func decodeJSON(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}
