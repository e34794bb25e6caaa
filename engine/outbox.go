package engine

import (
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"

	"busd/capture"
	"busd/codec"
	"busd/ring"
)

// outbox is one subscriber's output path: everything between a publish that
// matched the subscriber and the bytes handed to its connection. Its methods
// (here, in spill.go and in dropnotice.go) are the only code that changes its
// state; the rest of the engine asks it to deliver, flush, wake or close, and
// reads its counters through methods. A new delivery rule belongs in
// deliverLocal (publishers on the subscriber's own loop), enqueue (every other
// publisher) or flush (what reaches the socket, in which order).
//
// States. direct may overlap queued (a push during the batch: the flush
// writes the direct buffer first); closed (close, at OnClose) is terminal
// from any state: every delivery is then dropped and every flush returns at
// once. Arrows are labelled with what moves the outbox along them:
//
//	push  enqueue: a publisher on another loop, the ticker, or one on
//	      this loop whose direct copy was refused
//	own   deliverLocal: a publisher on this loop
//
//	             own: queue empty, room under the high-water mark
//	  +-------+ ---------------------------------------> +--------+
//	  | empty |                                          | direct |
//	  +-------+ <--------------------------------------- +--------+
//	   | ^ ^        flush at the batch's end writes it       |
//	   | | |                                                 | push
//	   | | |       flush writes the queue out                v
//	   | | +------------------------------------------- +--------+
//	   | |                                              | queued |
//	   +-|--------------------------------------------> +--------+
//	push |                                                   |
//	     |                   flush stops at the high-water mark
//	     |                                                   v
//	     |      retry writes it all out             +------------+
//	     +----------------------------------------- | backlogged |
//	     |                                          +------------+
//	     |                                                   | own: the queue
//	     |                                                   v moved in first
//	     |      flush or retry writes it all out       +---------+
//	     +-------------------------------------------- | spilled | own: appended
//	                                                   +---------+ push: moved in
//	                                                               by each flush
//
//	  empty       direct == nil, queue and spill empty, !backlogged
//	  direct      len(direct) > 0: only between a publish on this loop and
//	              the end of that read batch (the flush gives the buffer back)
//	  queued      queue.Len() > 0, spill empty; on the loop's dirty list or
//	              inbox until the flush
//	  backlogged  backlogged: a flush stopped at the high-water mark with
//	              events left; on the loop's backlog list (backlog.go)
//	  spilled     spill.Len() > 0, and backlogged until it is written out:
//	              the spill is the only outbound queue (spill.go)
//
// Order. Events of one publisher leave in publish order in every state: a
// publisher on this loop gets direct only while the queue is empty, and a
// flush writes the direct buffer before the queue; entering the spill moves
// the queue in first, and every flush moves in what other goroutines pushed
// since, before writing (doc.go has the whole argument).
//
// Goroutines.
//
//   - The subscriber's own event loop (the connection's gnet loop: OnTraffic,
//     OnClose, inbox tasks) calls everything that is not listed below, and
//     owns every plain field: direct, directEvents, spill, backlogged,
//     stalled, dirty, closed, notifiedDrops, sampledDrops.
//   - Publishers on other event loops and the ticker (heartbeats) call
//     deliverLocal, which for them reads only loop (fixed at attach) and
//     returns false, and enqueue, with l != o.loop (l nil for the ticker):
//     it pushes into the lock-free queue, notes drops (noteDrops:
//     firstDropNs, lastDropNs, atomic) and wakes the loop (wake:
//     wakePending, atomic).
//   - Stats and Connections readers (the admin socket, any goroutine) call
//     only drops, queued and delivered, which read atomics: queue, spillLen,
//     spillDrops, eventsOut, bytesOut.
type outbox struct {
	conn gnet.Conn
	loop *loop

	// queue is created at the first SUB (openQueue): publishers never need
	// one. Once set it is never replaced. It is atomic only for Stats;
	// publishers find the outbox through the index, which orders the store
	// before any push.
	queue atomic.Pointer[ring.Ring[*codec.Message]]

	// dirty: on its loop's dirty list for the current batch.
	dirty bool
	// direct holds frames copied straight from publishers on this loop
	// while the queue was empty and the socket below the high-water mark:
	// they skip the queue's atomics. Only during a batch: the batch's end
	// flushes it (before the queue, so per-publisher order holds) and gives
	// the buffer back to the loop's pool.
	direct       []byte
	directEvents uint64
	// spill queues this subscriber's events, in place of queue, once it
	// has fallen behind (spill.go); nil until then. spillLen and spillDrops
	// mirror its length and drops for other goroutines (Stats).
	spill      *ring.ByteQueue
	spillLen   atomic.Int64
	spillDrops atomic.Uint64
	// backlogged: a flush left events queued or spilled because the
	// kernel/gnet side was full; the loop retries it (backlog.go), at the
	// end of a batch while busy, on the ticker's task while quiet.
	backlogged bool
	// stalled: backlogged since the last flush that left nothing behind.
	// Unlike backlogged, not cleared for each retry: a running capture
	// records the transitions, a stall and its resume (capture.go).
	stalled bool
	// closed: the connection closed. Writes after that would hit a reused fd.
	closed bool

	// wakePending: on its loop's inbox, put there by another goroutine;
	// cleared by the loop before flushing, so at most one wake-up per flush.
	wakePending atomic.Bool

	// firstDropNs and lastDropNs span the evictions not yet reported by a
	// drop notice (set by publishers); notifiedDrops is the drop count at
	// the last notice (loop-owned). See dropnotice.go.
	firstDropNs   atomic.Int64
	lastDropNs    atomic.Int64
	notifiedDrops uint64
	// sampledDrops is the drop count a capture was last told (loop-owned).
	sampledDrops uint64

	eventsOut atomic.Uint64
	bytesOut  atomic.Uint64
}

// attach binds the outbox to its connection and that connection's loop, at
// OnOpen, before any other goroutine can find it.
func (o *outbox) attach(c gnet.Conn, l *loop) { o.conn, o.loop = c, l }

// openQueue creates the shared queue, at the subscriber's first SUB: a
// connection that never subscribes never needs one. Runs on o's loop.
func (o *outbox) openQueue(events, bytes int) {
	if o.queue.Load() == nil {
		o.queue.Store(ring.New[*codec.Message](events, bytes))
	}
}

// deliverLocal delivers the event without the shared queue when the
// publisher runs on o's loop (l): into the spill once o is backlogged
// (spill.go), else into the direct buffer while that keeps every guarantee
// of the queue: nothing queued to come before it, room under the
// high-water mark, a frame small enough to batch, and a buffer to spare in
// the loop's pool. It reports false when the event must go through the
// shared queue (enqueue) instead: l is another loop or nil, o is closed, or
// the direct buffer cannot take it.
//
// The direct copy is written out here, not in a function of its own: this
// runs once per subscriber per publish, and a second call level showed in
// BenchmarkFanOut with many subscribers.
func (o *outbox) deliverLocal(l *loop, ev *delivery) bool {
	if o.loop != l || l == nil || o.closed {
		return false
	}
	if o.backlogged || o.spilling() {
		o.spillEvent(ev)
		o.markDirty()
		return true
	}
	size := ev.size
	if o.queue.Load().Len() != 0 || size > writeBatch/2 {
		return false
	}
	if o.direct == nil {
		if o.direct = l.directPool.get(); o.direct == nil {
			return false
		}
	}
	highWater := l.srv.cfg.HighWater
	if len(o.direct)+size > cap(o.direct) {
		// Full: write it out, which the empty queue allows.
		if o.conn.OutboundBuffered()+len(o.direct) >= highWater {
			return false
		}
		o.writeDirect()
		if o.closed {
			return false
		}
	}
	n := len(o.direct)
	if o.conn.OutboundBuffered()+n+size >= highWater {
		return false
	}
	o.direct = o.direct[:n+size]
	dst := o.direct[n:]
	if ev.frame != nil {
		copy(dst, ev.frame)
	} else {
		putEvent(dst, ev.topic, ev.body)
		ev.frame = dst
	}
	o.directEvents++
	o.markDirty()
	return true
}

// enqueue pushes m into the shared queue, handing it the caller's reference,
// and makes sure a flush follows: from any goroutine, l being the caller's
// loop (nil: the ticker). Another goroutine wakes o's loop through its
// inbox; o's own loop marks it dirty for the end of the batch, or flushes at
// once when the queue is half full.
func (o *outbox) enqueue(l *loop, m *codec.Message) {
	q := o.queue.Load()
	if q.Push(m) > 0 {
		o.noteDrops(l.clock())
	}
	switch {
	case l == nil, o.loop != l:
		o.wake()
	case !o.backlogged && (q.Len() > l.srv.flushEvents || q.Bytes() > l.srv.flushBytes):
		// One read can hold thousands of small frames: flushing only at
		// the end of the batch would overflow a subscriber that keeps up.
		o.flush()
		fallthrough
	default:
		o.markDirty()
	}
}

// markDirty puts o on its loop's dirty list, flushed when the batch ends.
// Runs on o's loop.
func (o *outbox) markDirty() {
	if !o.dirty {
		o.dirty = true
		o.loop.addDirty(o)
	}
}

// batchEnded flushes o, taken off its loop's dirty list at the batch's end.
func (o *outbox) batchEnded() {
	o.dirty = false
	o.flush()
}

// wake hands o to its loop from any other goroutine: at most one inbox
// entry per flush.
func (o *outbox) wake() {
	if o.wakePending.CompareAndSwap(false, true) {
		o.loop.inbox.schedule(o)
	}
}

// woken flushes o, taken from its loop's inbox.
func (o *outbox) woken() {
	o.wakePending.Store(false)
	o.flush()
}

// retry flushes o, taken off its loop's backlog list: its outbound buffer
// may have drained since.
func (o *outbox) retry() {
	o.backlogged = false
	o.flush()
	if !o.backlogged && o.stalled {
		o.stalled = false
		o.tapOut(capture.OutResumed, o.drops())
	}
}

// popBatch is how many events a flush takes from a queue at once.
const popBatch = 64

// flush moves events to the connection while its outbound buffer (gnet's,
// unbounded) stays under the high-water mark: the direct buffer first, then
// a drop notice if one is due, then the spill or the queue. What stays
// behind waits in the queue or the spill, which drop the oldest, never in
// gnet; the outbox then goes on the backlog list. Runs on o's loop only.
func (o *outbox) flush() {
	if o.closed {
		return
	}
	q := o.queue.Load()
	if q == nil {
		return
	}
	spilling := o.spilling()
	if spilling {
		o.moveToSpill() // what other goroutines pushed since
		o.syncSpill()
	}
	l, c := o.loop, o.conn
	highWater := l.srv.cfg.HighWater
	if len(o.direct) > 0 {
		o.writeDirect()
	}
	o.releaseDirect()
	buf := l.wbuf[:0]
	if d := o.drops(); d != o.notifiedDrops {
		if d != o.sampledDrops {
			// Sampled even while the notice must wait for room: a
			// subscriber that never reads still shows its drops.
			o.sampledDrops = d
			o.tapOut(capture.OutDropped, d)
		}
		if c.OutboundBuffered() < highWater {
			buf = o.appendDropNotice(buf, d)
		}
	}
	var events, bytes uint64
	if spilling {
		events, bytes = o.writeSpill(buf)
		buf = buf[:0]
	}
	var popped [popBatch]*codec.Message
	take := popBatch
	for !spilling && !o.closed && c.OutboundBuffered()+len(buf) < highWater {
		n := q.PopN(popped[:take])
		if n == 0 {
			break
		}
		for i, m := range popped[:n] {
			f := m.Frame()
			if len(buf)+len(f) > cap(buf) {
				o.write(buf)
				buf = buf[:0]
			}
			if len(f) > cap(buf)/2 {
				// Large events go out straight from the shared buffer: gnet
				// copies only what the kernel does not take at once.
				o.write(f)
				take = 1 // keep the high-water check per event
			} else {
				buf = append(buf, f...)
			}
			events++
			bytes += uint64(len(f))
			m.Release() // even if the write closed o: the reference is ours
			popped[i] = nil
		}
	}
	if len(buf) > 0 {
		o.write(buf)
	}
	l.wbuf = buf[:0]
	o.countOut(events, bytes)
	if !o.closed && !o.backlogged && (q.Len() > 0 || o.spilling()) {
		o.backlogged = true
		l.addBacklog(o)
		if !o.stalled {
			o.stalled = true
			o.tapOut(capture.OutStalled, o.drops())
		}
	}
}

// write hands b to gnet, which writes it at once or copies what is left. A
// failed write makes gnet close the connection, running OnClose (and so
// close) before returning.
func (o *outbox) write(b []byte) {
	if !o.closed {
		_, _ = o.conn.Write(b)
	}
}

// writeDirect hands the direct buffer to the socket, counts it, and keeps
// the buffer, empty, for the rest of the batch.
func (o *outbox) writeDirect() {
	b := o.direct
	o.write(b)
	o.countOut(o.directEvents, uint64(len(b)))
	o.direct = b[:0]
	o.directEvents = 0
}

// releaseDirect gives the direct buffer back to the loop's pool.
func (o *outbox) releaseDirect() {
	if o.direct != nil {
		o.loop.directPool.put(o.direct)
		o.direct = nil
	}
}

// countOut adds events handed to the socket to o's and its loop's counters.
func (o *outbox) countOut(events, bytes uint64) {
	if events > 0 {
		l := o.loop
		l.eventsOut.Add(events)
		l.bytesOut.Add(bytes)
		o.eventsOut.Add(events)
		o.bytesOut.Add(bytes)
	}
}

// close ends the outbox when its connection has closed (OnClose, once the
// connection is out of the index): the queue discards what it holds and
// refuses later pushes, the spill's events are discarded with it. Returns
// how many events the outbox dropped in its life, for the server's total.
func (o *outbox) close() (drops uint64) {
	o.closed = true
	o.releaseDirect()
	q := o.queue.Load()
	if q == nil {
		return 0
	}
	q.Close()
	if o.spill != nil {
		o.syncSpill()
	}
	drops = o.drops()
	o.spill = nil
	o.spillLen.Store(0)
	return drops
}

// drops is how many events the queue and the spill evicted. Any goroutine.
func (o *outbox) drops() uint64 {
	if q := o.queue.Load(); q != nil {
		return q.Drops() + o.spillDrops.Load()
	}
	return 0
}

// queued is how many events wait in the queue and the spill. Any goroutine.
func (o *outbox) queued() int {
	if q := o.queue.Load(); q != nil {
		return q.Len() + int(o.spillLen.Load())
	}
	return 0
}

// delivered is how many events, and bytes, were handed to the socket. Any
// goroutine.
func (o *outbox) delivered() (events, bytes uint64) {
	return o.eventsOut.Load(), o.bytesOut.Load()
}
