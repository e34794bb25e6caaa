package engine

import (
	"errors"
	"slices"
	"time"

	"github.com/panjf2000/gnet/v2"

	"busd/codec"
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
			if s.holdUnfinished(cl, len(buf)-consumed, consumed > 0) {
				return consumed, frames, gnet.Close // over the pending-bytes budget
			}
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
	if cl.limits.unfinished.n != 0 {
		s.finishUnfinished(cl)
	}
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
				s.patternRemoved(f.Args)
			}
		}
		if rec := s.capture.recorder.Load(); rec != nil { // after the change: see subscribe
			rec.Unsub(cl.loop.lane, cl.loop.captureTime(rec), cl.id, f.Args)
		}
		return nil
	case codec.VerbHELLO:
		cl.infoMu.Lock()
		cl.name = string(f.Args)
		cl.infoMu.Unlock()
		cl.bridge.Store(codec.IsBridgeName(f.Args))
		if rec := s.capture.recorder.Load(); rec != nil { // after the change: see subscribe
			rec.Hello(cl.loop.lane, cl.loop.captureTime(rec), cl.id, f.Args)
		}
		return nil
	case codec.VerbBYE:
		if rec := s.capture.recorder.Load(); rec != nil {
			rec.Bye(cl.loop.lane, cl.loop.captureTime(rec), cl.id)
		}
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
	s.addPattern(cl, pattern)
	// Taped as sent (a replay meets the same set rule and limits), and
	// after the set changed, not before: a capture that starts meanwhile
	// then finds the pattern in its list of connections, or this SUB in
	// its records, never neither (StartCapture lists the connections
	// after installing the recorder; infoMu orders the two).
	if rec := s.capture.recorder.Load(); rec != nil {
		rec.Sub(cl.loop.lane, cl.loop.captureTime(rec), cl.id, pattern)
	}
	return nil
}

// addPattern adds pattern to cl's set and the index, unless it is there
// already or a limit refuses it.
func (s *Server) addPattern(cl *peer, pattern []byte) {
	if _, ok := cl.patterns[string(pattern)]; ok {
		return
	}
	if !s.admitPattern(cl, pattern) {
		return // refused: the connection stays (limits.go)
	}
	cl.out.openQueue(s.cfg.RingEvents, s.cfg.RingBytes)
	p := string(pattern)
	cl.infoMu.Lock()
	if cl.patterns == nil {
		cl.patterns = make(map[string]struct{})
	}
	cl.patterns[p] = struct{}{}
	cl.infoMu.Unlock()
	s.index.Add(p, cl)
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
	if rec := s.capture.recorder.Load(); rec != nil {
		rec.Pub(l.lane, l.captureTime(rec), from.id, topic, body)
	}
	l.batch.published++
	subs := s.index.MatchMemo(&l.memo, topic)
	if len(subs) == 0 || (len(subs) == 1 && subs[0] == from) {
		return nil
	}
	if len(body) == 0 {
		// The daemon this replaces wrapped every PUB in a fresh envelope;
		// an empty body still gets one, so subscribers always decode one.
		// Built in the loop's envelope buffer, which nothing else writes:
		// it stays valid for this fan-out.
		l.envelope = codec.AppendEnvelope(l.envelope[:0], topic, "", time.Now(), []byte("{}"))
		body = l.envelope
	}
	s.fanOut(l, from, topic, body, subs)
	return nil
}

// delivery is one publish being fanned out. topic and body point into the
// publisher's read buffer (or the loop's envelope buffer, or the heartbeat's
// own) and are valid only for the fan-out. frame is the encoded EVT frame
// once some subscriber got one: in that subscriber's direct buffer or spill,
// which nothing touches again during this fan-out (each subscriber is
// visited once), or in m, the pooled message that queues share.
type delivery struct {
	topic, body []byte
	size        int // the EVT frame's length
	frame       []byte
	m           *codec.Message
}

// fanOut delivers the event (topic, body) to every subscriber but the
// publisher (no self-echo) and, when the publisher is a bridge, but every
// bridge (codec.IsBridgeName). l is the publisher's loop, nil for the
// ticker.
// Each subscriber's outbox takes it without the shared queue if it can
// (outbox.deliverLocal: on the publisher's loop, direct buffer or spill);
// the pooled message is built only when a first subscriber needs the
// shared queue, so a publish whose subscribers are all on its loop costs
// none. The frame is encoded once and copied for every further subscriber.
func (s *Server) fanOut(l *loop, from *peer, topic, body []byte, subs []*peer) {
	if from != nil && from.bridge.Load() {
		// Rare: a bridge publishing what it imported. The loop of every
		// other publish is left as it was.
		subs, from = l.withoutBridges(subs), nil
	}
	remaining := len(subs)
	if from != nil && slices.Contains(subs, from) {
		remaining--
	}
	// Built field by field: a composite literal of an addressed struct
	// compiles to a temporary copied over in 16-byte moves that straddle
	// the stores just made, stalling store forwarding (see BenchmarkFanOut;
	// bench/decisions/engine.md, "Delivery built in place").
	var ev delivery
	ev.topic, ev.body = topic, body
	ev.size = codec.EventFrameSize(topic, len(body))
	reserved := 0 // references taken for queues and not yet handed to one
	for _, sub := range subs {
		if sub == from {
			continue
		}
		remaining--
		o := &sub.out
		if o.deliverLocal(l, &ev) {
			continue
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
		o.enqueue(l, m)
	}
	for range reserved {
		// The last of these frees the message only if every queue already
		// let go (a closed queue refuses its reference).
		ev.m.Release()
	}
}

// withoutBridges returns subs less its bridges, in the loop's scratch
// slice: valid until the loop's next call, so for one fan-out.
func (l *loop) withoutBridges(subs []*peer) []*peer {
	out := l.nonBridges[:0]
	for _, sub := range subs {
		if !sub.bridge.Load() {
			out = append(out, sub)
		}
	}
	l.nonBridges = out
	return out
}

// putEvent encodes the EVT frame for (topic, body) into dst, which is
// exactly codec.EventFrameSize long.
func putEvent(dst, topic, body []byte) {
	copy(dst[codec.PutEventHeader(dst, topic, len(body)):], body)
}

func (s *Server) protocolError(cl *peer, err error) {
	cl.protoErr = true
	cl.loop.protocolErrors.Add(1)
	s.cfg.Logger.Warn("protocol error, closing connection", append(cl.logAttrs(), "err", err)...)
}
