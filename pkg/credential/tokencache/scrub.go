package tokencache

import (
	"errors"
	"strings"
)

// quoteRun is the shortest run of the secret that, found in a backend's
// error text, makes us withhold that text. Shorter than any token fragment
// worth stealing, longer than words a keyring message shares with JSON.
const quoteRun = 12

// scrub keeps a keyring backend's error from carrying the value it was
// handed: backends are third-party code and may quote their input, whole or
// in part. When the message shares any quoteRun-byte run with the value it
// is withheld. errors.Is still works; errors.As cannot reach the original.
func scrub(err error, value string) error {
	if err == nil || !quotes(err.Error(), value) {
		return err
	}
	return &withheldError{err: err}
}

func quotes(msg, value string) bool {
	if value == "" {
		return false
	}
	n := min(quoteRun, len(value))
	for i := 0; i+n <= len(msg); i++ {
		if strings.Contains(value, msg[i:i+n]) {
			return true
		}
	}
	return false
}

type withheldError struct{ err error }

func (e *withheldError) Error() string {
	return "the keyring refused the value (its message quoted the secret, so it is withheld)"
}

func (e *withheldError) Is(target error) bool { return errors.Is(e.err, target) }
