//go:build !linux

package callerconfig

// Parent is not known on this system without more than the standard
// library: the caller stands in its own environment (SECURITY.md).
func Parent() *Caller { return nil }
