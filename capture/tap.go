package capture

import (
	"encoding/binary"
	"time"

	"busd/trie"
)

// The tap: what the daemon's event loops call while a capture runs, one
// method per record kind. lane is the calling loop's index (each loop has
// its own lane, so each lane has one producer); conn is the daemon's id of
// the connection. The frames' methods (Pub, Sub, Unsub, Hello, Bye) take
// their time, at (Now's clock), from the caller: the frames of one read
// arrived together, and reading the clock once per read rather than per
// frame halves what a PUB costs the loop (BenchmarkTapPub). Nothing here blocks or allocates: an entry that does not
// fit in the lane is dropped and counted (lane.reserve). Topic, body, text:
// copied before the call returns.
//
// Lane entries: the lane header, then
//
//	PUB               topic length (u32), body length (u32), topic, body (PayloadFull only)
//	SUB, UNSUB, HELLO text length (u32), text
//	OPEN              pid (u32, low half), uid (u32, high half) in one u64
//	CLOSE             drops (u64); the header's flag is 1 for a protocol error
//	OUT               events, bytes, drops (u64 each); the flag is the OutState
//	GAP               count (u64)
//	BYE               nothing

// Pub records a PUB of topic with body (topic filters apply here).
func (r *Recorder) Pub(lane int, at int64, conn uint64, topic, body []byte) {
	if len(r.topics) > 0 && !r.wants(topic) {
		return
	}
	keep := 0
	if r.opts.Payload == PayloadFull {
		keep = len(body)
	}
	ln := r.lanes[lane]
	n := alignEntry(laneHeader + 8 + len(topic) + keep)
	e := ln.reserve(n, at)
	if e == nil {
		return
	}
	putLaneHeader(e, uint32(n), KindPub, 0, at, conn)
	binary.LittleEndian.PutUint32(e[laneHeader:], uint32(len(topic)))
	binary.LittleEndian.PutUint32(e[laneHeader+4:], uint32(len(body)))
	copy(e[laneHeader+8+copy(e[laneHeader+8:], topic):], body[:keep])
	ln.commit(n)
}

// Sub records a SUB of pattern.
func (r *Recorder) Sub(lane int, at int64, conn uint64, pattern []byte) {
	r.text(lane, at, KindSub, conn, pattern)
}

// Unsub records an UNSUB of pattern.
func (r *Recorder) Unsub(lane int, at int64, conn uint64, pattern []byte) {
	r.text(lane, at, KindUnsub, conn, pattern)
}

// Hello records a HELLO naming the client.
func (r *Recorder) Hello(lane int, at int64, conn uint64, name []byte) {
	r.text(lane, at, KindHello, conn, name)
}

func (r *Recorder) text(lane int, at int64, k Kind, conn uint64, text []byte) {
	ln := r.lanes[lane]
	n := alignEntry(laneHeader + 4 + len(text))
	e := ln.reserve(n, at)
	if e == nil {
		return
	}
	putLaneHeader(e, uint32(n), k, 0, at, conn)
	binary.LittleEndian.PutUint32(e[laneHeader:], uint32(len(text)))
	copy(e[laneHeader+4:], text)
	ln.commit(n)
}

// Bye records a BYE.
func (r *Recorder) Bye(lane int, at int64, conn uint64) {
	r.numbersAt(lane, at, KindBye, 0, conn)
}

// Opened records a new connection and its peer's credentials.
func (r *Recorder) Opened(lane int, conn uint64, pid int32, uid uint32) {
	r.numbers(lane, KindOpen, 0, conn, uint64(uint32(pid))|uint64(uid)<<32)
}

// Closed records a closed connection and the events the daemon dropped for
// it in its life.
func (r *Recorder) Closed(lane int, conn uint64, drops uint64, protocolError bool) {
	var flag uint8
	if protocolError {
		flag = 1
	}
	r.numbers(lane, KindClose, flag, conn, drops)
}

// Out records a sample of a subscriber's output side.
func (r *Recorder) Out(lane int, conn uint64, state OutState, events, bytes, drops uint64) {
	r.numbers(lane, KindOut, uint8(state), conn, events, bytes, drops)
}

// numbers writes an entry of up to three u64 (OPEN packs pid and uid into
// one).
func (r *Recorder) numbers(lane int, k Kind, flag uint8, conn uint64, v ...uint64) {
	r.numbersAt(lane, r.Now(), k, flag, conn, v...)
}

func (r *Recorder) numbersAt(lane int, now int64, k Kind, flag uint8, conn uint64, v ...uint64) {
	ln := r.lanes[lane]
	n := laneHeader + 8*len(v)
	e := ln.reserve(n, now)
	if e == nil {
		return
	}
	putLaneHeader(e, uint32(n), k, flag, now, conn)
	for i, x := range v {
		binary.LittleEndian.PutUint64(e[laneHeader+8*i:], x)
	}
	ln.commit(n)
}

// wants reports whether topic matches a topic filter.
func (r *Recorder) wants(topic []byte) bool {
	for _, p := range r.topics {
		if trie.MatchBytes(p, topic) {
			return true
		}
	}
	return false
}

// Now is the capture's clock: nanoseconds since it started, monotonic.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }
