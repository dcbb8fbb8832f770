// Package connerr tells a refused or a reset TCP connection apart from other
// network errors on every OS. Windows reports them as WSAECONNREFUSED (10061)
// and WSAECONNRESET (10054), which errors.Is with syscall.ECONNREFUSED and
// syscall.ECONNRESET never matches there, so a diagnosis keyed on those
// never showed on Windows.
//
// It links the standard library only.
package connerr

import "errors"

// ErrReset is this OS's "connection reset by peer", for showing as the
// cause of an error that Reset matched.
var ErrReset error = reset

// Refused reports whether err is, or wraps, a connection refused: nothing
// listens at the address.
func Refused(err error) bool {
	return errors.Is(err, refused)
}

// Reset reports whether err is, or wraps, a connection reset by the peer.
func Reset(err error) bool {
	return errors.Is(err, reset)
}
