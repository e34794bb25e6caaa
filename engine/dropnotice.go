package engine

import (
	"strconv"
	"time"

	"busd/codec"
)

// droppedTopic carries drop notices: after its queue evicted events, a
// connection gets one EVT on this topic, to itself alone, before its next
// delivered event, so a consumer can resync from its own store. Only
// connections with a pattern matching the topic get it: deployed clients
// that never asked see nothing new.
var droppedTopic = []byte("system.bus.dropped")

// noteDrops records that a push into cl's queue evicted events. Runs on
// the publisher's goroutine, hence the atomics. A subscriber that never
// reads evicts on every push, and now is the batch's clock, the same for a
// whole read: the loads skip the locked writes that would change nothing.
func (cl *peer) noteDrops(now int64) {
	if cl.firstDropNs.Load() == 0 {
		cl.firstDropNs.CompareAndSwap(0, now)
	}
	if cl.lastDropNs.Load() != now {
		cl.lastDropNs.Store(now)
	}
}

// appendDropNotice appends the notice frame for drops not yet reported, if
// cl asked for notices, and marks them reported. Runs on cl's loop.
func (s *Server) appendDropNotice(cl *peer, buf []byte, drops uint64) []byte {
	lost := drops - cl.notifiedDrops
	cl.notifiedDrops = drops
	first := cl.firstDropNs.Swap(0)
	last := cl.lastDropNs.Load()
	if !s.wantsDropNotices(cl) {
		return buf
	}
	if first == 0 {
		first = last
	}
	now := time.Now()
	payload := cl.loop.scratch[:0]
	payload = append(payload, `{"dropped": `...)
	payload = strconv.AppendUint(payload, lost, 10)
	payload = append(payload, `, "first_ts": `...)
	payload = codec.AppendEpoch(payload, time.Unix(0, first), 6)
	payload = append(payload, `, "last_ts": `...)
	payload = codec.AppendEpoch(payload, time.Unix(0, last), 6)
	payload = append(payload, '}')
	cl.loop.scratch = payload
	var body [512]byte
	env := codec.AppendEnvelope(body[:0], droppedTopic, "bus.dropped", now, payload)
	buf = codec.AppendFrame(buf, codec.VerbEVT, string(droppedTopic), env)
	cl.loop.dropNotices.Add(1)
	return buf
}

func (s *Server) wantsDropNotices(cl *peer) bool {
	for _, sub := range s.index.Match(droppedTopic) {
		if sub == cl {
			return true
		}
	}
	return false
}
