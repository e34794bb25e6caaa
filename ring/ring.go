// Package ring holds the per-subscriber queues of the broker, which shed
// their oldest entries when full instead of making a publisher wait: Ring,
// which many publishers push into and one subscriber loop pops, and ByteQueue,
// the byte queue a subscriber spills into from its own loop once it has
// fallen behind.
package ring

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Item is what a ring holds: a reference-counted buffer. The ring owns one
// reference per queued item and calls Release when it evicts or discards it.
type Item interface {
	Size() int // bytes counted against the byte bound
	Release()
}

// cacheLinePad keeps fields written by different sides at least 128 bytes
// apart: that clears a 64-byte line and the adjacent line some CPUs prefetch
// together with it, whatever the struct's alignment in memory.
const cacheLinePad = 128

// cell is one slot of the array. seq tells, for the position p that maps to
// this slot, whose turn it is: seq == 2p means a producer may claim p,
// seq == 2p+1 means the value for p is published and a dequeuer may take it,
// and a dequeuer of p hands the slot to the next lap by storing 2(p+n), n the
// number of slots. The factor 2 keeps "published p" and "free for p+n"
// distinct when n == 1, which the textbook p / p+1 / p+n encoding cannot.
// size is kept next to the value so the bytes returned on removal are always
// the bytes reserved on admission, whatever Size() says later.
type cell[T any] struct {
	seq  atomic.Uint64
	size int64
	val  T
}

// Ring is a bounded multi-producer queue with one consumer, built on the
// bounded array queue with per-slot sequence numbers. Eviction is an ordinary
// dequeue performed by a producer, so producers and the consumer compete for
// the oldest entry through the same compare-and-swap on head.
//
// Invariants:
//
//   - Each slot has one owner at a time. A producer owns a slot from winning
//     the CAS on tail until it publishes (seq = 2p+1); a dequeuer (Pop, an
//     evicting Push, or a draining Close) owns it from winning the CAS on head
//     until it frees it for the next lap (seq = 2(p+n)). Nobody touches val
//     or size without owning the slot, and positions are 64-bit counters
//     that never wrap in practice, so a stale owner cannot recur.
//
//   - Conservation. Every pushed item ends exactly once in one of: popped
//     (its reference handed to the caller of Pop), dropped (evicted by an
//     overflowing Push, or rejected by a Push after Close), discarded
//     (released by Close or by a Push that finished after Close), or still
//     queued. Once no call is in flight,
//     Pushed() == Popped() + Drops() + Discarded() + Len().
//
//   - Order. Positions are claimed in increasing order and removed from the
//     head only, so the entries of any one producer leave the ring, whether
//     popped or evicted, in that producer's push order.
//
//   - Events. Len() never exceeds maxEvents: the array has exactly maxEvents
//     slots, so a push finding no free slot must first evict.
//
//   - Bytes. A push reserves its item's size before it looks for room and the
//     reservation is returned only after the entry has left its slot; the
//     push evicts while the total is over maxBytes and the ring is non-empty.
//     Let P be the number of Pushes in flight and L the largest Size(). The
//     entries resident in the ring total at most max(maxBytes, P*L): they
//     exceed maxBytes only when pushes race on an empty ring, each of which
//     is admitted as a lone oversize item would be. So resident bytes overshoot
//     the bound by at most P*L, and only transiently: the next Push evicts
//     them. Bytes() also counts items in motion (each Push's own item and one
//     it is evicting, the entry a Pop or Close is removing), so a reading can
//     exceed maxBytes by up to (3P+2)*L while calls are in flight; once none
//     is, it equals the resident total.
//
// Progress. Push and Close never wait on a lock, and Pop never waits at all.
// A Push that must evict can wait only across the few instructions another
// goroutine executes between winning a CAS and publishing or freeing the slot
// it won; this is the one place the design is not lock-free, and if that
// goroutine is descheduled there the Push backs off (yield, then sleep) until
// it runs again.
type Ring[T Item] struct {
	_ [cacheLinePad]byte

	// Written by every producer on every push.
	tail atomic.Uint64
	_    [cacheLinePad - 8]byte

	// Written by whoever removes an entry, mostly the consumer.
	head   atomic.Uint64
	popped atomic.Uint64
	_      [cacheLinePad - 16]byte

	// Written by everyone.
	bytes atomic.Int64
	_     [cacheLinePad - 8]byte

	// Written only when entries are lost, not on the common path.
	evicted   atomic.Uint64
	rejected  atomic.Uint64
	discarded atomic.Uint64
	_         [cacheLinePad - 24]byte

	// Read on every operation, written once (closed) or never.
	closed   atomic.Bool
	pow2     bool
	mask     uint64
	n        uint64
	maxBytes int64
	cells    []cell[T]

	_ [cacheLinePad]byte
}

// New returns a ring bounded to maxEvents entries and maxBytes total Size().
// It panics unless maxEvents >= 1 and maxBytes >= 1.
func New[T Item](maxEvents, maxBytes int) *Ring[T] {
	if maxEvents < 1 || maxBytes < 1 {
		panic("ring: New needs maxEvents >= 1 and maxBytes >= 1")
	}
	// The array is exactly maxEvents long so that the event bound is the
	// queue's own capacity and needs no extra check on the producer path
	// (which would read the consumer's cache line). A power of two only buys
	// a cheaper index computation.
	n := uint64(maxEvents)
	r := &Ring[T]{
		pow2:     n&(n-1) == 0,
		mask:     n - 1,
		n:        n,
		maxBytes: int64(maxBytes),
		cells:    make([]cell[T], n),
	}
	for i := range r.cells {
		r.cells[i].seq.Store(2 * uint64(i))
	}
	return r
}

func (r *Ring[T]) slot(pos uint64) *cell[T] {
	if r.pow2 {
		return &r.cells[pos&r.mask]
	}
	return &r.cells[pos%r.n]
}

// Push enqueues v, taking over the caller's reference. It never blocks: while
// the ring is full in events, or adding v would exceed maxBytes and the ring
// is not empty, it evicts the oldest entry (Release + drop counted). An item
// larger than maxBytes on an empty ring is still accepted, so every legal
// message can be delivered. If the ring is closed, v is released and counted
// as dropped. Returns the number of entries evicted by this push (including v
// itself if the ring was already closed). Entries such a push releases
// because a Close overlapped it are not evictions: they count as Discarded.
func (r *Ring[T]) Push(v T) (evicted int) {
	if r.closed.Load() {
		r.rejected.Add(1)
		v.Release()
		return 1
	}
	size := int64(v.Size())
	if size < 0 {
		size = 0
	}

	// Reserving first makes concurrent producers see each other's items
	// before they are enqueued, which is what keeps the resident bytes
	// within max(maxBytes, P*L) instead of growing with every racer.
	for b := r.bytes.Add(size); b > r.maxBytes; {
		old, nb, ok := r.dequeue(true)
		if !ok {
			break // empty: admit v even if it alone is over the bound
		}
		b = nb
		r.evicted.Add(1)
		old.Release()
		evicted++
	}

	spins := 0
	for {
		pos := r.tail.Load()
		c := r.slot(pos)
		seq := c.seq.Load()
		switch d := int64(seq - 2*pos); {
		case d == 0:
			if !r.tail.CompareAndSwap(pos, pos+1) {
				continue
			}
			c.size = size
			c.val = v
			c.seq.Store(2*pos + 1)
			// Close may have drained between our first check and the
			// publication above, and would not have seen v; whoever
			// publishes after the flag is set cleans up behind it.
			if r.closed.Load() {
				r.drain()
			}
			return evicted
		case d < 0:
			// The slot still holds (or is being emptied of) the entry one
			// lap back. Only when that entry is still queued is the ring
			// really full; otherwise a dequeuer is about to free the slot.
			if int64(pos-r.head.Load()) >= int64(r.n) {
				if old, _, ok := r.dequeue(true); ok {
					r.evicted.Add(1)
					old.Release()
					evicted++
				}
			} else {
				backoff(&spins)
			}
		}
		// d > 0: another producer took pos; reload tail.
	}
}

// dequeue removes the oldest entry and returns the byte total just after
// returning its reservation. If the oldest position has been claimed by a
// producer that has not published it yet, wait chooses between waiting for
// it and reporting failure. With wait, ok=false means the ring was empty
// (head == tail) at one instant, which the byte bound relies on.
func (r *Ring[T]) dequeue(wait bool) (v T, bytes int64, ok bool) {
	spins := 0
	for {
		pos := r.head.Load()
		c := r.slot(pos)
		seq := c.seq.Load()
		switch d := int64(seq - (2*pos + 1)); {
		case d == 0:
			if !r.head.CompareAndSwap(pos, pos+1) {
				continue
			}
			v, size := c.val, c.size
			var zero T
			c.val = zero // the slot must not pin a released buffer
			c.seq.Store(2 * (pos + r.n))
			return v, r.bytes.Add(-size), true
		case d < 0:
			// pos is still the head (a removed pos would have seq > 2pos+1)
			// and is not published: the ring is empty, or a producer is
			// between its CAS and its publication.
			if !wait || r.tail.Load() == pos {
				return v, 0, false
			}
			backoff(&spins)
		}
		// d > 0: someone else removed pos; reload head.
	}
}

// backoff is for waits that last a few instructions of another goroutine,
// unless that goroutine was descheduled. Yielding lets it run again if the Go
// scheduler parked it; if the OS did (an oversubscribed host, or more Ps than
// CPUs), other goroutines' yields keep every CPU busy and only sleeping hands
// a CPU back to the stalled thread.
func backoff(spins *int) {
	*spins++
	switch {
	case *spins > 64:
		time.Sleep(20 * time.Microsecond)
	case *spins > 4:
		runtime.Gosched()
	}
}

// Pop dequeues the oldest entry, handing its reference to the caller. ok is
// false when the ring is empty, and also while the oldest entry belongs to a
// Push that has not returned yet: that Push's caller is the one that will
// signal the consumer. Only one goroutine may Pop at a time; evicting
// producers and Close dequeue concurrently and Pop is correct against them.
func (r *Ring[T]) Pop() (v T, ok bool) {
	v, _, ok = r.dequeue(false)
	if ok {
		r.popped.Add(1)
	}
	return v, ok
}

// PopN dequeues up to len(dst) of the oldest entries into dst, handing
// their references to the caller, and returns how many it took. It claims
// the whole run of published entries with one compare-and-swap on head and
// returns their bytes in one step, so draining a backlog costs a fraction of
// the shared-memory traffic of one Pop per entry. Like Pop, it stops at an
// entry whose Push has not returned yet, and only one goroutine may pop.
func (r *Ring[T]) PopN(dst []T) int {
	for {
		pos := r.head.Load()
		k := uint64(0)
		for k < uint64(len(dst)) && k < r.n && r.slot(pos+k).seq.Load() == 2*(pos+k)+1 {
			k++
		}
		if k == 0 {
			return 0
		}
		// Winning the CAS from pos to pos+k makes us the dequeuer of every
		// position in between: each was published when we looked, and a
		// published entry only leaves by a CAS on head, which moved none of
		// them since head still equals pos.
		if !r.head.CompareAndSwap(pos, pos+k) {
			continue
		}
		var zero T
		var size int64
		for i := range k {
			c := r.slot(pos + i)
			dst[i] = c.val
			size += c.size
			c.val = zero
			c.seq.Store(2 * (pos + i + r.n))
		}
		r.bytes.Add(-size)
		r.popped.Add(k)
		return int(k)
	}
}

// Close marks the ring closed and releases every queued entry, counting them
// as discarded (they were not lost to overflow). Pushes after Close release
// their item at once. Close may race with pushes: an entry still being
// published when Close drains is released by its own Push, so once Close and
// every Push overlapping it have returned, the ring is empty and no reference
// is left. Close is idempotent.
func (r *Ring[T]) Close() {
	r.closed.Store(true)
	r.drain()
}

// drain does not wait for unpublished entries: their producers will see the
// closed flag after publishing and drain again.
func (r *Ring[T]) drain() {
	for {
		v, _, ok := r.dequeue(false)
		if !ok {
			return
		}
		r.discarded.Add(1)
		v.Release()
	}
}

// Len returns the approximate number of queued entries, in [0, maxEvents].
func (r *Ring[T]) Len() int {
	// tail first: head only grows, so the difference cannot overstate the
	// entries present when tail was read.
	t := r.tail.Load()
	h := r.head.Load()
	if d := int64(t - h); d > 0 {
		return int(d)
	}
	return 0
}

// Bytes returns the approximate total Size() of queued entries; see the
// type's documentation for what it includes while calls are in flight.
func (r *Ring[T]) Bytes() int {
	if b := r.bytes.Load(); b > 0 {
		return int(b)
	}
	return 0
}

// Drops returns the entries lost to overflow plus the pushes rejected after
// Close.
func (r *Ring[T]) Drops() uint64 { return r.evicted.Load() + r.rejected.Load() }

// Pushed returns the number of Push calls, whatever became of their items.
// Every accepted push claims exactly one position, so tail counts them.
func (r *Ring[T]) Pushed() uint64 { return r.tail.Load() + r.rejected.Load() }

// Popped returns the number of entries handed out by Pop.
func (r *Ring[T]) Popped() uint64 { return r.popped.Load() }

// Discarded returns the number of entries released because the ring was
// closed while they were queued.
func (r *Ring[T]) Discarded() uint64 { return r.discarded.Load() }

// Closed reports whether Close has been called.
func (r *Ring[T]) Closed() bool { return r.closed.Load() }
