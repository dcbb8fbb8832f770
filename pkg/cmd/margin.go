package cmd

import (
	"fmt"
	"time"

	"github.com/securekapi/securekapi/pkg/credential"
)

// maxExpiryMargin bounds --expiry-margin: ID tokens live minutes to hours,
// so a margin past a day would treat every token as expired and log in on
// every kubectl call.
const maxExpiryMargin = 24 * time.Hour

func validateExpiryMargin(m time.Duration) error {
	if m < 0 || m > maxExpiryMargin {
		return fmt.Errorf("--expiry-margin %s: must be between 0s and %s (default %s)", m, maxExpiryMargin, credential.DefaultExpiryMargin)
	}
	return nil
}
