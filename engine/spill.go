package engine

import (
	"busd/codec"
	"busd/ring"
)

// A subscriber that falls behind spills.
//
// Once an outbox's socket is full and its queue still holds events
// (backlogged), the events its own loop's publishers send it go into its
// spill: a drop-oldest byte queue (ring.ByteQueue) owned by the loop, where an
// event costs one copy and dropping the oldest costs nothing but an index
// step. The shared queue would spend a pooled message, a reference count
// and atomic claims on every event, and a subscriber that never reads
// evicts one event per event pushed: that is what its neighbours would pay.
//
// Order: while the spill holds anything, it is the subscriber's only
// outbound queue. Entering it moves the shared queue's events in first, and
// every flush moves in what other goroutines pushed since, so each
// publisher's events stay in publish order. Bounds: the spill has the
// queue's bounds (RingEvents, RingBytes); the shared queue holds only what
// other goroutines push between two flushes.
//
// Everything here runs on the outbox's loop.

// spilling reports whether the spill holds events.
func (o *outbox) spilling() bool { return o.spill != nil && o.spill.Len() > 0 }

// spillEvent copies the event into the spill, starting the spill if
// needed. For a publisher on o's loop.
func (o *outbox) spillEvent(ev *delivery) {
	if !o.spilling() {
		o.moveToSpill()
	}
	dst, _ := o.spill.Reserve(ev.size) // drops are noted at the flush
	if ev.frame != nil {
		copy(dst, ev.frame)
	} else {
		// Encoded here first: later subscribers copy it from here (no
		// other subscriber's delivery touches this spill).
		putEvent(dst, ev.topic, ev.body)
		ev.frame = dst
	}
}

// syncSpill publishes the spill's length and drops to other goroutines and
// notes new drops for the drop notice: once per batch, from the flush
// that ends it, rather than once per event.
func (o *outbox) syncSpill() {
	if d := o.spill.Drops(); d != o.spillDrops.Load() {
		o.spillDrops.Store(d)
		o.noteDrops(o.loop.clock())
	}
	o.spillLen.Store(int64(o.spill.Len()))
}

// moveToSpill moves the shared queue's events to the end of the spill,
// creating the spill if needed (the loop is the queue's only consumer).
func (o *outbox) moveToSpill() {
	if o.spill == nil {
		cfg := &o.loop.srv.cfg
		o.spill = ring.NewByteQueue(cfg.RingEvents, cfg.RingBytes)
	}
	q := o.queue.Load()
	var popped [popBatch]*codec.Message
	for {
		n := q.PopN(popped[:])
		if n == 0 {
			break
		}
		for i, m := range popped[:n] {
			dst, _ := o.spill.Reserve(m.Size())
			copy(dst, m.Frame())
			m.Release()
			popped[i] = nil
		}
	}
}

// writeSpill writes the spilled events, oldest first and in runs of at
// most writeBatch bytes, while the outbound buffer stays under the
// high-water mark; buf (a drop notice, perhaps) goes first. It frees the
// spill's memory once it is empty. Returns the events and bytes written.
func (o *outbox) writeSpill(buf []byte) (events, bytes uint64) {
	sp := o.spill
	if len(buf) > 0 {
		o.write(buf)
	}
	highWater := o.loop.srv.cfg.HighWater
	for !o.closed && o.conn.OutboundBuffered() < highWater {
		b, k := sp.Front(writeBatch)
		if k == 0 {
			break
		}
		// gnet copies whatever the kernel does not take at once.
		o.write(b)
		events += uint64(k)
		bytes += uint64(len(b))
		sp.Pop(k)
	}
	sp.Free()
	o.spillLen.Store(int64(sp.Len()))
	return events, bytes
}
