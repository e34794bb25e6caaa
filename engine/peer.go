package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"busd/codec"
	"busd/ring"
)

// peer is the daemon's state for one connection.
//
// Ownership: every plain field is read and written only on the connection's
// own event loop (gnet runs OnOpen, OnTraffic, OnClose and our flushes for a
// connection on one goroutine). Fields other goroutines touch are atomic:
// queue (publishers on other loops push into it), wakePending, and the
// counters read by Stats.
type peer struct {
	id    uint64
	conn  gnet.Conn
	loop  *loop
	since time.Time
	name  string
	// Peer credentials (SO_PEERCRED) at connect time.
	pid      int32
	uid, gid uint32
	// protoErr: this connection sent a hostile frame and is being closed.
	protoErr bool

	// patterns is this connection's subscription set; the index holds the
	// same pairs. Removed from the index when the connection closes.
	// Written on the loop under infoMu, so that Connections can read it
	// (and name) from another goroutine; SUB and UNSUB are rare.
	patterns map[string]struct{}
	infoMu   sync.Mutex

	// queue is created at the first SUB: publishers never need one. Once set
	// it is never replaced. It is atomic only for Stats; publishers find the
	// client through the index, which orders the store before any push.
	queue atomic.Pointer[ring.Ring[*codec.Message]]

	// need is how many buffered bytes the frame being received needs before
	// parsing it again is worth it (0: unknown, parse on every read).
	need int
	// dirty: queued on its loop's flush list for the current batch.
	dirty bool
	// direct holds frames copied straight from publishers on this loop
	// while the queue was empty and the socket below the high-water mark:
	// they skip the queue's atomics. Only during a batch: the batch's end
	// flushes it (before the queue, so per-publisher order holds) and gives
	// the buffer back to the loop.
	direct       []byte
	directEvents uint64
	// spill queues this subscriber's events, in place of queue, once it
	// has fallen behind (spill.go); nil until then. spillLen and spillDrops
	// mirror its length and drops for other goroutines (Stats).
	spill      *ring.ByteQueue
	spillLen   atomic.Int64
	spillDrops atomic.Uint64
	// backlogged: the queue still held events when the kernel/gnet side was
	// full; the loop retries it (loop.retryBacklog), at the end of a batch
	// while busy, on the ticker's task while quiet.
	backlogged bool
	// closed: OnClose ran. Writes after that would hit a reused fd.
	closed bool

	// wakePending: queued in its loop's inbox by another goroutine; cleared
	// by the loop before flushing, so at most one wake-up per flush.
	wakePending atomic.Bool

	// firstDropNs and lastDropNs span the evictions not yet reported by a
	// drop notice (set by publishers); notifiedDrops is the queue's drop
	// count at the last notice (loop-owned).
	firstDropNs   atomic.Int64
	lastDropNs    atomic.Int64
	notifiedDrops uint64

	framesIn  atomic.Uint64
	bytesIn   atomic.Uint64
	eventsOut atomic.Uint64
	bytesOut  atomic.Uint64
}

// drops is how many events this connection's queue and spill evicted.
func (cl *peer) drops() uint64 {
	if q := cl.queue.Load(); q != nil {
		return q.Drops() + cl.spillDrops.Load()
	}
	return 0
}

// queued is how many events wait in this connection's queue and spill.
func (cl *peer) queued() int {
	if q := cl.queue.Load(); q != nil {
		return q.Len() + int(cl.spillLen.Load())
	}
	return 0
}
