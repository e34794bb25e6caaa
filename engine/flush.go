package engine

import "busd/codec"

// popBatch is how many events a flush takes from a queue at once.
const popBatch = 64

// flush moves events from cl's queue to its connection while the
// connection's outbound buffer (gnet's, unbounded) stays under the
// high-water mark: the queue, which drops the oldest, holds any backlog,
// not gnet. Runs on cl's loop only.
func (s *Server) flush(cl *peer) {
	if cl.closed {
		return
	}
	q := cl.queue.Load()
	if q == nil {
		return
	}
	spilling := cl.spilling()
	if spilling {
		s.moveToSpill(cl) // what other goroutines pushed since
		cl.syncSpill()
	}
	l, c := cl.loop, cl.conn
	if len(cl.direct) > 0 {
		s.writeDirect(cl)
	}
	l.releaseDirect(cl)
	buf := l.wbuf[:0]
	if d := cl.drops(); d != cl.notifiedDrops && c.OutboundBuffered() < s.cfg.HighWater {
		buf = s.appendDropNotice(cl, buf, d)
	}
	var events, bytes uint64
	if spilling {
		events, bytes = s.writeSpill(cl, buf)
		buf = buf[:0]
	}
	var popped [popBatch]*codec.Message
	take := popBatch
	for !spilling && !cl.closed && c.OutboundBuffered()+len(buf) < s.cfg.HighWater {
		n := q.PopN(popped[:take])
		if n == 0 {
			break
		}
		for i, m := range popped[:n] {
			f := m.Frame()
			if len(buf)+len(f) > cap(buf) {
				s.write(cl, buf)
				buf = buf[:0]
			}
			if len(f) > cap(buf)/2 {
				// Large events go out straight from the shared buffer: gnet
				// copies only what the kernel does not take at once.
				s.write(cl, f)
				take = 1 // keep the high-water check per event
			} else {
				buf = append(buf, f...)
			}
			events++
			bytes += uint64(len(f))
			m.Release() // even if the write closed cl: the reference is ours
			popped[i] = nil
		}
	}
	if len(buf) > 0 {
		s.write(cl, buf)
	}
	l.wbuf = buf[:0]
	if events > 0 {
		l.eventsOut.Add(events)
		l.bytesOut.Add(bytes)
		cl.eventsOut.Add(events)
		cl.bytesOut.Add(bytes)
	}
	if !cl.closed && !cl.backlogged && (q.Len() > 0 || cl.spilling()) {
		cl.backlogged = true
		l.backlog = append(l.backlog, cl)
		l.hasBacklog.Store(true)
	}
}

// write hands b to gnet, which writes it at once or copies what is left. A
// failed write makes gnet close the connection, running OnClose before
// returning, which sets cl.closed.
func (s *Server) write(cl *peer, b []byte) {
	if !cl.closed {
		_, _ = cl.conn.Write(b)
	}
}

// writeDirect hands cl's direct buffer to the socket and counts it.
func (s *Server) writeDirect(cl *peer) {
	b := cl.direct
	s.write(cl, b)
	cl.loop.eventsOut.Add(cl.directEvents)
	cl.loop.bytesOut.Add(uint64(len(b)))
	cl.eventsOut.Add(cl.directEvents)
	cl.bytesOut.Add(uint64(len(b)))
	cl.direct = b[:0]
	cl.directEvents = 0
}
