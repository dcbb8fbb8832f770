package testjwt

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestUnsignedCarriesTheClaims(t *testing.T) {
	tok := Unsigned(map[string]any{"iss": "https://issuer.example", "exp": 1700000000})
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != "https://issuer.example" || claims["exp"] != float64(1700000000) {
		t.Errorf("claims = %v", claims)
	}
	if sig, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil || len(sig) != 256 {
		t.Errorf("signature: %d bytes, %v; want 256", len(sig), err)
	}
}
