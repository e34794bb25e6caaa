package codec

import "sync/atomic"

// liveMessages counts messages handed out and not yet returned to a pool.
// Only maintained when Invariants is set: one shared atomic per message
// would be a contention point in production.
var liveMessages atomic.Int64

// LiveMessages reports how many messages are still referenced somewhere.
// It is meaningful only when Invariants is true; tests use it to prove that
// closing every connection leaves no reference behind.
func LiveMessages() int64 { return liveMessages.Load() }
