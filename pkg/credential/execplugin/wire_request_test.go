package execplugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func env(value string) func(string) string {
	return func(name string) string {
		if name == "KUBERNETES_EXEC_INFO" {
			return value
		}
		return ""
	}
}

func TestReadRequestVersions(t *testing.T) {
	for _, version := range []string{V1, V1beta1} {
		t.Run(version, func(t *testing.T) {
			r, err := ReadRequest(env(`{"apiVersion":"` + version + `","kind":"ExecCredential","spec":{"interactive":true}}`))
			if err != nil {
				t.Fatal(err)
			}
			if r.APIVersion != version || !r.Interactive || r.Cluster != nil {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

func TestReadRequestClusterInfo(t *testing.T) {
	for _, version := range []string{V1, V1beta1} {
		t.Run(version, func(t *testing.T) {
			raw := `{"apiVersion":"` + version + `","kind":"ExecCredential","spec":{"interactive":false,"cluster":{
				"server":"https://kapi.example.com:6443",
				"tls-server-name":"kapi.internal",
				"proxy-url":"socks5://localhost:1080",
				"certificate-authority-data":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
				"insecure-skip-tls-verify":true,
				"config":{"pin":"sha256:abc","n":1}}}}`
			r, err := ReadRequest(env(raw))
			if err != nil {
				t.Fatal(err)
			}
			c := r.Cluster
			if c == nil {
				t.Fatal("no cluster")
			}
			if c.Server != "https://kapi.example.com:6443" || c.TLSServerName != "kapi.internal" || c.ProxyURL != "socks5://localhost:1080" || !c.InsecureSkipTLSVerify {
				t.Fatalf("got %+v", c)
			}
			if string(c.CAData) != "-----BEGIN CERTIFICATE-----" {
				t.Fatalf("CA data = %q, want the base64 decoded", c.CAData)
			}
			var cfg map[string]any
			if err := json.Unmarshal(c.Config, &cfg); err != nil || cfg["pin"] != "sha256:abc" {
				t.Fatalf("config = %s, %v", c.Config, err)
			}
		})
	}
}

func TestReadRequestClusterWithoutConfig(t *testing.T) {
	r, err := ReadRequest(env(`{"apiVersion":"` + V1 + `","kind":"ExecCredential","spec":{"interactive":false,"cluster":{"server":"https://k"}}}`))
	if err != nil || r.Cluster == nil || r.Cluster.Config != nil || r.Cluster.CAData != nil {
		t.Fatalf("got %+v, %v", r.Cluster, err)
	}
}

func TestReadRequestErrors(t *testing.T) {
	for name, tc := range map[string]struct{ raw, want string }{
		"missing":                        {"", "kubeconfig exec stanza"},
		"malformed":                      {`{"apiVersion":`, "not valid JSON"},
		"not an object":                  {`"hello"`, "not valid JSON"},
		"wrong kind":                     {`{"apiVersion":"` + V1 + `","kind":"Pod"}`, `kind "Pod"`},
		"no kind":                        {`{"apiVersion":"` + V1 + `"}`, `kind ""`},
		"unknown version":                {`{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential"}`, "does not speak"},
		"bad field":                      {`{"apiVersion":"` + V1 + `","kind":"ExecCredential","spec":{"interactive":"yes"}}`, "does not match"},
		"bad CA base64":                  {`{"apiVersion":"` + V1beta1 + `","kind":"ExecCredential","spec":{"cluster":{"certificate-authority-data":"%%%"}}}`, "does not match"},
		"server name, not UTF-8":         {`{"apiVersion":"` + V1 + `","kind":"ExecCredential","spec":{"cluster":{"server":"s","tls-server-name":"` + "k\x7f\xff\xff\xffinternal" + `"}}}`, "tls-server-name \"k\\x7f\ufffd\ufffd\ufffdinternal\": it is not valid UTF-8"},
		"server name, control character": {`{"apiVersion":"` + V1 + `","kind":"ExecCredential","spec":{"cluster":{"server":"s","tls-server-name":"kapi\u001b[2J.internal"}}}`, `holds the control character \x1b`},
		"server name, bidi override":     {`{"apiVersion":"` + V1 + `","kind":"ExecCredential","spec":{"cluster":{"server":"s","tls-server-name":"kapi\u202e.internal"}}}`, `holds the control character \u202e`},
		"server name, too long":          {`{"apiVersion":"` + V1 + `","kind":"ExecCredential","spec":{"cluster":{"server":"s","tls-server-name":"` + strings.Repeat("k", 300) + `"}}}`, `is 300 bytes long`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadRequest(env(tc.raw))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestReadRequestMissingShowsManualRun(t *testing.T) {
	_, err := ReadRequest(env(""))
	if err == nil || !strings.Contains(err.Error(), `KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}'`) {
		t.Fatalf("err = %v", err)
	}
	// The example in the message must itself be a valid request.
	if _, err := ReadRequest(env(`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`)); err != nil {
		t.Fatal(err)
	}
}

func TestWriteCredentialRoundTrip(t *testing.T) {
	expiry := time.Date(2030, 5, 6, 7, 8, 9, 999, time.FixedZone("CEST", 2*3600))
	for _, version := range []string{V1, V1beta1} {
		t.Run(version, func(t *testing.T) {
			var out bytes.Buffer
			if err := WriteCredential(&out, version, "eyJtoken", expiry); err != nil {
				t.Fatal(err)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Fatalf("want exactly one JSON line, got %q", out.String())
			}
			var got struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Status     struct {
					Token               string `json:"token"`
					ExpirationTimestamp string `json:"expirationTimestamp"`
				} `json:"status"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.APIVersion != version || got.Kind != "ExecCredential" || got.Status.Token != "eyJtoken" {
				t.Fatalf("got %+v", got)
			}
			if got.Status.ExpirationTimestamp != "2030-05-06T05:08:09Z" {
				t.Fatalf("expirationTimestamp = %q, want RFC 3339 in UTC", got.Status.ExpirationTimestamp)
			}
		})
	}
}

func TestWriteCredentialZeroExpiryOmitted(t *testing.T) {
	var out bytes.Buffer
	if err := WriteCredential(&out, V1, "eyJtoken", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "expirationTimestamp") {
		t.Fatalf("got %s", out.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// No error path may carry the token.
func TestWriteCredentialErrorsNeverContainToken(t *testing.T) {
	const token = "eyJSECRETTOKEN0123456789"
	for name, err := range map[string]error{
		"unknown version": WriteCredential(&bytes.Buffer{}, "client.authentication.k8s.io/v1alpha1", token, time.Now()),
		"empty version":   WriteCredential(&bytes.Buffer{}, "", token, time.Now()),
		"broken writer":   WriteCredential(failingWriter{}, V1, token, time.Now()),
		"no token":        WriteCredential(&bytes.Buffer{}, V1, "", time.Now()),
	} {
		if err == nil {
			t.Errorf("%s: want an error", name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error carries the token: %v", name, err)
		}
	}
}
