//go:build !race

package localproxy

const raceEnabled = false
