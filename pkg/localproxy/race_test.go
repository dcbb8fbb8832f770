//go:build race

package localproxy

// raceEnabled: the race detector slows both the proxy and the flooder
// several times over, so timing-bound tests relax.
const raceEnabled = true
