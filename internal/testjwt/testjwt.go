// Package testjwt makes unsigned JWTs for tests of code that reads a
// token's claims (expiry, audience, subject, issuer) without verifying it:
// the cached path, doctor, status, the CI token sources. Anything that
// verifies a token is tested against a real issuer instead.
package testjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// signature is as long as an RS256 signature, so the token has a real
// token's size; no key verifies it.
var signature = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("sig"), 86)[:256])

const header = `{"alg":"RS256","kid":"test"}`

// Unsigned is a JWT carrying claims.
func Unsigned(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("testjwt: claims do not encode: %v", err))
	}
	return Raw(string(payload))
}

// Raw is a JWT whose payload is exactly payload, for tests of claims that
// are malformed or of the wrong type.
func Raw(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + signature
}
