package execplugin_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"

	"github.com/securekapi/securekapi/pkg/credential/execplugin"
)

// The package writes ExecCredential with its own structs so that the exec
// program does not link apimachinery. These tests hold those structs to
// the contract: client-go's own types (what kubectl decodes with) must read
// back exactly what was written, and must write the same bytes.

func TestWrittenCredentialDecodesWithClientGoTypes(t *testing.T) {
	expiry := time.Date(2026, 12, 1, 10, 20, 30, 999_000_000, time.FixedZone("CET", 3600))
	// WriteCredential writes its own structs; a token that needs
	// escaping (quotes, HTML, control and non-ASCII characters) must come
	// out as client-go's encoder writes it too.
	for _, token := range []string{"header.payload.sig", "a\"b\\c<d>&e\u2028\x01é"} {
		for _, exp := range []time.Time{expiry, {}} {
			for _, version := range []string{execplugin.V1, execplugin.V1beta1} {
				var out bytes.Buffer
				if err := execplugin.WriteCredential(&out, version, token, exp); err != nil {
					t.Fatal(err)
				}
				var want any
				switch version {
				case execplugin.V1:
					var ec clientauthv1.ExecCredential
					decodeStrict(t, out.Bytes(), &ec)
					checkDecoded(t, version, ec.APIVersion, ec.Kind, ec.Status.Token, token, ec.Status.ExpirationTimestamp, exp)
					want = clientauthv1.ExecCredential{TypeMeta: metav1.TypeMeta{APIVersion: version, Kind: "ExecCredential"},
						Status: &clientauthv1.ExecCredentialStatus{Token: token, ExpirationTimestamp: metaTime(exp)}}
				case execplugin.V1beta1:
					var ec clientauthv1beta1.ExecCredential
					decodeStrict(t, out.Bytes(), &ec)
					checkDecoded(t, version, ec.APIVersion, ec.Kind, ec.Status.Token, token, ec.Status.ExpirationTimestamp, exp)
					want = clientauthv1beta1.ExecCredential{TypeMeta: metav1.TypeMeta{APIVersion: version, Kind: "ExecCredential"},
						Status: &clientauthv1beta1.ExecCredentialStatus{Token: token, ExpirationTimestamp: metaTime(exp)}}
				}
				// Byte for byte what the client-go types wrote before.
				wantJSON, err := json.Marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				if got := bytes.TrimSuffix(out.Bytes(), []byte("\n")); !bytes.Equal(got, wantJSON) {
					t.Errorf("%s: wrote\n%s\nclient-go writes\n%s", version, got, wantJSON)
				}
			}
		}
	}
}

func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt field would be silently dropped by kubectl
	if err := dec.Decode(v); err != nil {
		t.Fatalf("client-go types cannot decode %s: %v", data, err)
	}
}

func checkDecoded(t *testing.T, version, apiVersion, kind, token, wantToken string, got *metav1.Time, exp time.Time) {
	t.Helper()
	if apiVersion != version || kind != "ExecCredential" || token != wantToken {
		t.Errorf("%s: decoded apiVersion %q kind %q token %q", version, apiVersion, kind, token)
	}
	switch {
	case exp.IsZero() && got != nil:
		t.Errorf("%s: zero expiry written as %v", version, got)
	case !exp.IsZero() && (got == nil || !got.Time.Equal(exp.Truncate(time.Second))):
		t.Errorf("%s: expiry decoded as %v, want %v", version, got, exp.Truncate(time.Second))
	}
}

func metaTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	m := metav1.NewTime(t)
	return &m
}

// TestRequestsWrittenByClientGoTypesRoundTrip: what kubectl sends in
// KUBERNETES_EXEC_INFO, encoded with client-go's types, reads back with
// every field securekapi uses.
func TestRequestsWrittenByClientGoTypesRoundTrip(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	cfg := []byte(`{"pin":"sha256:abc","n":1}`)
	for _, withConfig := range []bool{true, false} {
		var ext runtime.RawExtension
		if withConfig {
			ext.Raw = cfg
		}
		requests := map[string]any{
			execplugin.V1: clientauthv1.ExecCredential{TypeMeta: metav1.TypeMeta{APIVersion: execplugin.V1, Kind: "ExecCredential"},
				Spec: clientauthv1.ExecCredentialSpec{Interactive: true, Cluster: &clientauthv1.Cluster{
					Server: "https://kapi.example.com:6443", TLSServerName: "kapi.internal", InsecureSkipTLSVerify: true,
					CertificateAuthorityData: ca, ProxyURL: "socks5://localhost:1080", DisableCompression: true, Config: ext}}},
			execplugin.V1beta1: clientauthv1beta1.ExecCredential{TypeMeta: metav1.TypeMeta{APIVersion: execplugin.V1beta1, Kind: "ExecCredential"},
				Spec: clientauthv1beta1.ExecCredentialSpec{Interactive: true, Cluster: &clientauthv1beta1.Cluster{
					Server: "https://kapi.example.com:6443", TLSServerName: "kapi.internal", InsecureSkipTLSVerify: true,
					CertificateAuthorityData: ca, ProxyURL: "socks5://localhost:1080", DisableCompression: true, Config: ext}}},
		}
		for version, ec := range requests {
			raw, err := json.Marshal(ec)
			if err != nil {
				t.Fatal(err)
			}
			r, err := execplugin.ReadRequest(func(name string) string {
				if name == "KUBERNETES_EXEC_INFO" {
					return string(raw)
				}
				return ""
			})
			if err != nil {
				t.Fatalf("%s: %v\n%s", version, err, raw)
			}
			c := r.Cluster
			if r.APIVersion != version || !r.Interactive || c == nil || c.Server != "https://kapi.example.com:6443" ||
				c.TLSServerName != "kapi.internal" || !c.InsecureSkipTLSVerify || c.ProxyURL != "socks5://localhost:1080" ||
				!bytes.Equal(c.CAData, ca) {
				t.Fatalf("%s: read %+v cluster %+v from\n%s", version, r, c, raw)
			}
			if withConfig && !bytes.Equal(c.Config, cfg) || !withConfig && c.Config != nil {
				t.Errorf("%s: config %q (withConfig=%v)", version, c.Config, withConfig)
			}
		}
	}
}
