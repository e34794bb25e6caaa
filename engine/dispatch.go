package engine

import (
	"errors"
	"slices"
	"time"

	"github.com/panjf2000/gnet/v2"

	"busd/codec"
	"busd/ring"
)

// Protocol errors above the frame layer (codec's errors cover the frame
// layer). Sentinels: the error path allocates nothing.
var (
	errEmptyPattern   = errors.New("SUB with an empty pattern")
	errEmptyTopic     = errors.New("PUB with an empty topic")
	errInvalidBody    = errors.New("PUB body is not exactly one JSON object")
	errEventFromPeer  = errors.New("EVT sent by a client")
	errTruncatedFrame = errors.New("connection closed inside a frame")
)

// dispatch handles every complete frame at the start of buf and returns how
// many bytes it consumed and what gnet should do with the connection.
// buf is gnet's inbound buffer: nothing that points into it may outlive
// this call (patterns and names are copied into strings, events into
// messages).
func (s *Server) dispatch(cl *peer, buf []byte) (consumed int, action gnet.Action) {
	consumed, frames, action := s.dispatchFrames(cl, buf)
	// The counters are added once per call, not per frame.
	if frames > 0 {
		l := cl.loop
		l.batch.framesIn += uint64(frames)
		l.batch.bytesIn += uint64(consumed)
		cl.framesIn.Add(uint64(frames))
		cl.bytesIn.Add(uint64(consumed))
	}
	return consumed, action
}

// dispatchFrames is dispatch's loop; it also returns how many frames it
// handled.
func (s *Server) dispatchFrames(cl *peer, buf []byte) (consumed, frames int, action gnet.Action) {
	var f codec.Frame
	for consumed < len(buf) {
		n, need, err := f.Decode(buf[consumed:])
		if err != nil {
			s.protocolError(cl, err)
			return consumed, frames, gnet.Close
		}
		if n == 0 {
			cl.need = need
			return consumed, frames, gnet.None
		}
		consumed += n
		frames++
		if err := s.handleFrame(cl, f); err != nil {
			if err == errBye {
				return consumed, frames, gnet.Close
			}
			s.protocolError(cl, err)
			return consumed, frames, gnet.Close
		}
	}
	cl.need = 0
	return consumed, frames, gnet.None
}

// errBye ends the connection without it being a protocol error.
var errBye = errors.New("BYE")

func (s *Server) handleFrame(cl *peer, f codec.Frame) error {
	switch f.Verb {
	case codec.VerbPUB:
		return s.publish(cl, f.Args, f.Body)
	case codec.VerbSUB:
		return s.subscribe(cl, f.Args)
	case codec.VerbUNSUB:
		if cl.patterns != nil {
			if _, ok := cl.patterns[string(f.Args)]; ok {
				cl.infoMu.Lock()
				delete(cl.patterns, string(f.Args))
				cl.infoMu.Unlock()
				s.index.Remove(string(f.Args), cl)
			}
		}
		return nil
	case codec.VerbHELLO:
		cl.infoMu.Lock()
		cl.name = string(f.Args)
		cl.infoMu.Unlock()
		return nil
	case codec.VerbBYE:
		return errBye
	case codec.VerbEVT:
		return errEventFromPeer
	}
	return codec.ErrUnknownVerb
}

func (s *Server) subscribe(cl *peer, pattern []byte) error {
	if len(pattern) == 0 {
		return errEmptyPattern
	}
	if _, ok := cl.patterns[string(pattern)]; ok {
		return nil
	}
	if cl.queue.Load() == nil {
		cl.queue.Store(ring.New[*codec.Message](s.cfg.RingEvents, s.cfg.RingBytes))
	}
	p := string(pattern)
	cl.infoMu.Lock()
	if cl.patterns == nil {
		cl.patterns = make(map[string]struct{})
	}
	cl.patterns[p] = struct{}{}
	cl.infoMu.Unlock()
	s.index.Add(p, cl)
	return nil
}

// publish fans one PUB out: validate, match, build the EVT frame once, and
// push a reference into every other matching connection's queue.
func (s *Server) publish(from *peer, topic, body []byte) error {
	if len(topic) == 0 {
		return errEmptyTopic
	}
	if len(body) > 0 && s.cfg.ValidateJSON && !codec.ValidJSONObject(body) {
		return errInvalidBody
	}
	if len(body) > 0 && !s.cfg.ValidateJSON {
		spendBudget() // nothing, but in the measurement build (budget_on.go)
	}
	l := from.loop
	l.batch.published++
	subs := s.index.MatchMemo(&l.memo, topic)
	if len(subs) == 0 || (len(subs) == 1 && subs[0] == from) {
		return nil
	}
	if len(body) == 0 {
		// The daemon this replaces wrapped every PUB in a fresh envelope;
		// an empty body still gets one, so subscribers always decode one.
		l.scratch = codec.AppendEnvelope(l.scratch[:0], topic, "", time.Now(), []byte("{}"))
		body = l.scratch
	}
	s.fanOut(l, from, topic, body, subs)
	return nil
}

// delivery is one publish being fanned out. topic and body point into the
// publisher's read buffer (or the server's scratch) and are valid only for
// the fan-out. frame is the encoded EVT frame once some subscriber got one:
// in a direct buffer, which no other subscriber's delivery touches, or in
// m, the pooled message that queues share.
type delivery struct {
	topic, body []byte
	size        int // the EVT frame's length
	frame       []byte
	m           *codec.Message
}

// fanOut delivers the event (topic, body) to every subscriber but the
// publisher (no self-echo) and marks them for flushing. A subscriber on
// this loop with nothing queued gets the frame copied straight into its
// direct buffer, and one on this loop that has fallen behind gets it in
// its spill (spill.go); the pooled message is built only when a first
// subscriber needs the shared queue, so a publish whose subscribers are
// all on its loop costs none.
// The frame is encoded once and copied for every further subscriber.
func (s *Server) fanOut(l *loop, from *peer, topic, body []byte, subs []*peer) {
	remaining := len(subs)
	if from != nil && slices.Contains(subs, from) {
		remaining--
	}
	// Built field by field: a composite literal of an addressed struct
	// compiles to a temporary copied over in 16-byte moves that straddle
	// the stores just made, stalling store forwarding (~5 ns per publish).
	var ev delivery
	ev.topic, ev.body = topic, body
	ev.size = codec.EventFrameSize(topic, len(body))
	reserved := 0 // references taken for queues and not yet handed to one
	for _, sub := range subs {
		if sub == from {
			continue
		}
		remaining--
		q := sub.queue.Load()
		if l != nil && sub.loop == l && !sub.closed {
			// Same loop: the frame goes straight to the subscriber's
			// direct buffer while it keeps up, to its spill (spill.go)
			// once it has fallen behind.
			if sub.spilling() {
				s.spillEvent(sub, &ev)
				l.markDirty(sub)
				continue
			}
			if s.copyDirect(sub, q.Len(), &ev) {
				l.markDirty(sub)
				continue
			}
			if sub.backlogged {
				s.spillEvent(sub, &ev)
				l.markDirty(sub)
				continue
			}
		}
		m := ev.m
		if m == nil {
			// One reference for this queue and one for every target
			// left, taken in one step; the unused ones go back below.
			m = codec.NewMessageRefs(ev.size, int32(remaining+1))
			if ev.frame != nil {
				copy(m.Frame(), ev.frame)
			} else {
				putEvent(m.Frame(), topic, body)
			}
			reserved = remaining + 1
			ev.m, ev.frame = m, m.Frame()
		}
		reserved--
		if q.Push(m) > 0 {
			sub.noteDrops(l.clock())
		}
		switch {
		case l == nil:
			sub.loop.wake(sub)
		case sub.loop != l:
			sub.loop.wake(sub)
		case !sub.backlogged && (q.Len() > s.flushEvents || q.Bytes() > s.flushBytes):
			// One read can hold thousands of small frames: flushing only at
			// the end of the batch would overflow a subscriber that keeps up.
			s.flush(sub)
			fallthrough
		default:
			l.markDirty(sub)
		}
	}
	for range reserved {
		// The last of these frees the message only if every queue already
		// let go (a closed queue refuses its reference).
		ev.m.Release()
	}
}

// putEvent encodes the EVT frame for (topic, body) into dst, which is
// exactly codec.EventFrameSize long.
func putEvent(dst, topic, body []byte) {
	copy(dst[codec.PutEventHeader(dst, topic, len(body)):], body)
}

// copyDirect appends the event's frame to sub's direct buffer when that
// keeps every guarantee of the queue: nothing queued to come before it
// (queued == 0), room under the high-water mark, and a frame small enough
// to batch. Runs on sub's loop, which is the publisher's.
func (s *Server) copyDirect(sub *peer, queued int, ev *delivery) bool {
	size := ev.size
	if queued != 0 || sub.backlogged || sub.closed || size > writeBatch/2 {
		return false
	}
	if sub.direct == nil {
		if sub.direct = sub.loop.directBuffer(); sub.direct == nil {
			return false
		}
	}
	if len(sub.direct)+size > cap(sub.direct) {
		if sub.conn.OutboundBuffered()+len(sub.direct) >= s.cfg.HighWater {
			return false
		}
		s.writeDirect(sub)
		if sub.closed {
			return false
		}
	}
	n := len(sub.direct)
	if sub.conn.OutboundBuffered()+n+size >= s.cfg.HighWater {
		return false
	}
	sub.direct = sub.direct[:n+size]
	dst := sub.direct[n:]
	if ev.frame != nil {
		copy(dst, ev.frame)
	} else {
		putEvent(dst, ev.topic, ev.body)
		ev.frame = dst
	}
	sub.directEvents++
	return true
}

func (s *Server) protocolError(cl *peer, err error) {
	cl.protoErr = true
	cl.loop.protocolErrors.Add(1)
	s.cfg.Logger.Warn("protocol error, closing connection", append(cl.logAttrs(), "err", err)...)
}
