// Package localproxy is the loopback HTTP CONNECT proxy kubectl is pointed at:
// it authenticates kubectl with a per-run secret and tunnels each allowed
// CONNECT through a mutual-TLS access gateway, never seeing kubectl's plaintext.
package localproxy
