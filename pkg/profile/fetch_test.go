package profile

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFetchRedirects: a redirect within the same https origin is followed;
// one to another origin (even a trusted https one) or to plain http is
// refused before anything is asked of it; a loop stops with the way out.
func TestFetchRedirects(t *testing.T) {
	var attackerHits atomic.Int32
	attacker := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		attackerHits.Add(1)
		w.Write([]byte("attacker's profile"))
	})
	plain := httptest.NewServer(attacker)
	t.Cleanup(plain.Close)
	other := httptest.NewTLSServer(attacker) // the same test certificate: trusted by owner.Client()
	t.Cleanup(other.Close)
	owner := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/profile.yaml":
			w.Write([]byte("owner's profile"))
		case "/moved":
			http.Redirect(w, r, "/profile.yaml", http.StatusMovedPermanently)
		case "/to-http":
			http.Redirect(w, r, plain.URL+"/profile.yaml", http.StatusFound)
		case "/to-other-host":
			http.Redirect(w, r, other.URL+"/profile.yaml", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	t.Cleanup(owner.Close)

	got, err := Fetch(t.Context(), owner.Client(), owner.URL+"/moved")
	if err != nil || string(got) != "owner's profile" {
		t.Fatalf("same-origin redirect: %q, %v; want it followed", got, err)
	}
	for _, path := range []string{"/to-http", "/to-other-host"} {
		got, err := Fetch(t.Context(), owner.Client(), owner.URL+path)
		if err == nil || !strings.Contains(err.Error(), "refusing the redirect") || !strings.Contains(err.Error(), "import the new URL directly") {
			t.Errorf("redirect %s: %q, %v; want it refused with the way out", path, got, err)
		}
	}
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("a refused redirect's target was asked %d times", n)
	}
	_, err = Fetch(t.Context(), owner.Client(), owner.URL+"/loop")
	if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") || !strings.Contains(err.Error(), "ask the platform owner for the profile's final URL") {
		t.Errorf("redirect loop: %v", err)
	}
}

// TestFetchRefusesWhatIsNotAProfile: plain http, an answer other than 200,
// and a body over MaxBytes are errors that say what to check; a body of
// exactly MaxBytes is read whole.
func TestFetchRefusesWhatIsNotAProfile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/max":
			w.Write(bytes.Repeat([]byte("#"), MaxBytes))
		case "/huge":
			w.Write(bytes.Repeat([]byte("#"), MaxBytes+1))
		case "/private":
			w.WriteHeader(http.StatusForbidden)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	if _, err := Fetch(t.Context(), srv.Client(), "http://"+strings.TrimPrefix(srv.URL, "https://")+"/max"); err == nil || !strings.Contains(err.Error(), "https only") {
		t.Errorf("plain http: %v", err)
	}
	for path, status := range map[string]string{"/gone": "404 Not Found", "/private": "403 Forbidden"} {
		_, err := Fetch(t.Context(), srv.Client(), srv.URL+path)
		if err == nil || !strings.Contains(err.Error(), "the server answered "+status+"; check the URL") {
			t.Errorf("%s: %v, want the status and what to check", path, err)
		}
	}
	if got, err := Fetch(t.Context(), srv.Client(), srv.URL+"/max"); err != nil || len(got) != MaxBytes {
		t.Errorf("a profile of MaxBytes: %d bytes, %v", len(got), err)
	}
	if got, err := Fetch(t.Context(), srv.Client(), srv.URL+"/huge"); err == nil || !strings.Contains(err.Error(), "is over 4 MiB") {
		t.Errorf("a profile over MaxBytes: %d bytes, %v; want it refused, not cut short", len(got), err)
	}
	if _, err := Read(strings.NewReader(strings.Repeat("#", MaxBytes+1))); err == nil {
		t.Error("Read of a profile over MaxBytes: no error")
	}
}
