package hostport

import (
	"net/url"
	"strings"
	"testing"
)

func TestOfURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://API.Example.com":        "api.example.com:443",
		"https://api.example.com:6443/x": "api.example.com:6443",
		"https://api.example.com:0443":   "api.example.com:443",
		"http://proxy.corp":              "proxy.corp:80",
		"HTTPS://[::1]":                  "[::1]:443",
		"https://[fe80::1]:8443":         "[fe80::1]:8443",
		"https://10.0.0.1":               "10.0.0.1:443",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OfURL(u)
		if err != nil || got != want {
			t.Errorf("OfURL(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for raw, why := range map[string]string{
		"https://h:0":             "not a TCP port",
		"https://h:65536":         "not a TCP port",
		"socks5://h":              "no default port",
		"https://user:secret@:1/": "no host",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OfURL(u)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("OfURL(%s) = %q, %v; want an error saying %q", raw, got, err, why)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("OfURL(%s) error shows the password: %v", raw, err)
		}
	}
}

func TestSplitNeedsAWrittenPort(t *testing.T) {
	for _, bad := range []string{"host", "host:", "host:http", "host:+443", "host:-1", "host:70000", "[::1]"} {
		if _, _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
	if host, port, err := Split(":443"); err != nil || host != "" || port != "443" {
		t.Errorf("Split(:443) = %q %q %v; a listen address has no host", host, port, err)
	}
}

func TestNormalizeMakesEqualPlacesEqual(t *testing.T) {
	for in, want := range map[string]string{
		"API.example.com:0443": "api.example.com:443",
		"[::1]:6443":           "[::1]:6443",
		"10.0.0.1:80":          "10.0.0.1:80",
	} {
		if got, err := Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Normalize(":443"); err == nil {
		t.Error("Normalize accepted an address with no host")
	}
}
