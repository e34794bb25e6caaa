//go:build invariants

package codec

// Invariants is true in builds with the "invariants" tag, which the test
// suite uses: reference counting is then audited (see LiveMessages).
const Invariants = true
