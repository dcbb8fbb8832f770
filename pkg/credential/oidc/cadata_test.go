package oidc

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/securekapi/securekapi/internal/testpki"
)

// TestHTTPClientTrustsTheApprovedBytes: the issuer's CA bundle is read once,
// when the approval's issuer trust hashes it; the client trusts those
// bytes, and a file swapped in its place afterwards is never read (issue
// #23's review: a symbolic link repointed between two reads).
func TestHTTPClientTrustsTheApprovedBytes(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	approved := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	swapped := filepath.Join(t.TempDir(), "ca.pem")
	// What the path names now: another CA, which does not sign srv.
	if err := os.WriteFile(swapped, testpki.Root(t, "Attacker CA").CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := HTTPClient(Settings{CAFile: swapped, CAData: approved})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("the approved bytes were not what the client trusted: %v", err)
	}
	resp.Body.Close()
	// Without the approved bytes, the path is read, and srv is not trusted:
	// so the success above was the bytes.
	c, err = HTTPClient(Settings{CAFile: swapped})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(srv.URL); err == nil {
		t.Fatal("the swapped file trusts srv too; the test shows nothing")
	}
}
