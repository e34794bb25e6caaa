package engine

import (
	"busd/codec"
	"busd/ring"
)

// A subscriber that falls behind spills.
//
// Once a subscriber's socket is full and its queue still holds events
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

// spilling reports whether cl's spill holds events.
func (cl *peer) spilling() bool { return cl.spill != nil && cl.spill.Len() > 0 }

// spillEvent copies the event into sub's spill, starting the spill if
// needed. Runs on sub's loop, for a publisher on that loop.
func (s *Server) spillEvent(sub *peer, ev *delivery) {
	if !sub.spilling() {
		s.moveToSpill(sub)
	}
	dst, _ := sub.spill.Reserve(ev.size) // drops are noted at the flush
	if ev.frame != nil {
		copy(dst, ev.frame)
	} else {
		// Encoded here first: later subscribers copy it from here (no
		// other subscriber's delivery touches this spill).
		putEvent(dst, ev.topic, ev.body)
		ev.frame = dst
	}
}

// syncSpill publishes cl's spill length and drops to other goroutines and
// notes new drops for the drop notice: once per batch, from the flush
// that ends it, rather than once per event.
func (cl *peer) syncSpill() {
	if d := cl.spill.Drops(); d != cl.spillDrops.Load() {
		cl.spillDrops.Store(d)
		cl.noteDrops(cl.loop.clock())
	}
	cl.spillLen.Store(int64(cl.spill.Len()))
}

// moveToSpill moves the events of cl's shared queue to the end of its
// spill, creating the spill if needed. Runs on cl's loop, the queue's only
// consumer.
func (s *Server) moveToSpill(cl *peer) {
	if cl.spill == nil {
		cl.spill = ring.NewByteQueue(s.cfg.RingEvents, s.cfg.RingBytes)
	}
	q := cl.queue.Load()
	var popped [popBatch]*codec.Message
	for {
		n := q.PopN(popped[:])
		if n == 0 {
			break
		}
		for i, m := range popped[:n] {
			dst, _ := cl.spill.Reserve(m.Size())
			copy(dst, m.Frame())
			m.Release()
			popped[i] = nil
		}
	}
}

// writeSpill writes cl's spilled events, oldest first and in runs of at
// most writeBatch bytes, while its outbound buffer stays under the
// high-water mark; buf (a drop notice, perhaps) goes first. It frees the
// spill's memory once it is empty. Returns the events and bytes written.
func (s *Server) writeSpill(cl *peer, buf []byte) (events, bytes uint64) {
	sp := cl.spill
	if len(buf) > 0 {
		s.write(cl, buf)
	}
	for !cl.closed && cl.conn.OutboundBuffered() < s.cfg.HighWater {
		b, k := sp.Front(writeBatch)
		if k == 0 {
			break
		}
		// gnet copies whatever the kernel does not take at once.
		s.write(cl, b)
		events += uint64(k)
		bytes += uint64(len(b))
		sp.Pop(k)
	}
	sp.Free()
	cl.spillLen.Store(int64(sp.Len()))
	return events, bytes
}
