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

// dropNoticePayload is room for the largest notice payload, built on the
// stack: {"dropped": <20 digits>, "first_ts": <epoch>, "last_ts": <epoch>}.
const dropNoticePayload = 128

// noteDrops records that a push into o's queue evicted events. Runs on
// the publisher's goroutine, hence the atomics. A subscriber that never
// reads evicts on every push, and now is the batch's clock, the same for a
// whole read: the loads skip the locked writes that would change nothing.
func (o *outbox) noteDrops(now int64) {
	if o.firstDropNs.Load() == 0 {
		o.firstDropNs.CompareAndSwap(0, now)
	}
	if o.lastDropNs.Load() != now {
		o.lastDropNs.Store(now)
	}
}

// appendDropNotice appends the notice frame for drops not yet reported, if
// o's connection asked for notices, and marks them reported. Runs on o's
// loop, from flush.
func (o *outbox) appendDropNotice(buf []byte, drops uint64) []byte {
	lost := drops - o.notifiedDrops
	o.notifiedDrops = drops
	first := o.firstDropNs.Swap(0)
	last := o.lastDropNs.Load()
	if !o.wantsDropNotices() {
		return buf
	}
	if first == 0 {
		first = last
	}
	now := time.Now()
	var room [dropNoticePayload]byte
	payload := append(room[:0], `{"dropped": `...)
	payload = strconv.AppendUint(payload, lost, 10)
	payload = append(payload, `, "first_ts": `...)
	payload = codec.AppendEpoch(payload, time.Unix(0, first), 6)
	payload = append(payload, `, "last_ts": `...)
	payload = codec.AppendEpoch(payload, time.Unix(0, last), 6)
	payload = append(payload, '}')
	var body [512]byte
	env := codec.AppendEnvelope(body[:0], droppedTopic, "bus.dropped", now, payload)
	buf = codec.AppendFrame(buf, codec.VerbEVT, string(droppedTopic), env)
	o.loop.dropNotices.Add(1)
	return buf
}

// wantsDropNotices reports whether a pattern of o's connection matches
// droppedTopic.
func (o *outbox) wantsDropNotices() bool {
	for _, sub := range o.loop.srv.index.Match(droppedTopic) {
		if &sub.out == o {
			return true
		}
	}
	return false
}
