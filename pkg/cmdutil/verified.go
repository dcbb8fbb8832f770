package cmdutil

import "github.com/securekapi/securekapi/pkg/trust"

// TrustedBy says how a chain was trusted, for messages: by the pin it
// matched, or by the CA bundle alone when the cluster has no pins.
func TrustedBy(v *trust.Verified) string {
	if v.MatchedPin == "" {
		return "trusted by its CA bundle; no pin set"
	}
	return "pin " + string(v.MatchedPin)
}
