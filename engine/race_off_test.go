//go:build !race

package engine

// raceEnabled: the race detector is on (its shadow memory moves RSS).
const raceEnabled = false
