//go:build !invariants

package codec

// Invariants is false in production builds: the audit counters compile away.
const Invariants = false
