package trust

import (
	"crypto/tls"
	"time"
)

// TLSConfig is a client tls.Config that connects only to a server whose
// chain this very handshake verified against p: crypto/tls checks the
// roots and the name as usual, then VerifyConnection runs Verify on the
// chain the server presented (roots, name, dates, key usage and pins).
// VerifyConnection runs on every connection, resumed ones included, so a
// transport that opens a new connection later checks that one too: what
// an earlier handshake proved says nothing about the next.
//
// The roots are p.CABundle, else p.SystemRoots (nil: the system's), and
// both checks use p.Now. Without a CABundle, a pinned certificate that is
// not under those roots is refused by crypto/tls before Verify could take
// it as a root: stricter than Verify alone, never looser.
func (p Policy) TLSConfig() *tls.Config {
	roots := p.SystemRoots
	if len(p.CABundle) > 0 {
		roots = poolOf(p.CABundle)
	}
	return &tls.Config{
		RootCAs:    roots,
		ServerName: p.ServerName,
		MinVersion: tls.VersionTLS12,
		Time:       func() time.Time { return p.Now },
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := Verify(cs.PeerCertificates, p)
			return err
		},
	}
}
