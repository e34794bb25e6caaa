package engine

import (
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"busd/trie"
)

// readBatch is the most gnet reads from a connection per readable event.
// It is gnet's default, set here because writeBatch is derived from it.
// Smaller reads cost more syscalls per event, larger ones hold a batch's
// events back from their subscribers for longer; 64 KiB measured best on
// W1w (bench/decisions/engine.md, "Read batch").
const readBatch = 64 << 10

// writeBatch is the size of a loop's write buffer and of a direct buffer:
// events are copied into it and handed to the connection in one write,
// which measured cheaper than a writev of many small frames and keeps
// gnet's outbound buffer (which rescans every queued chunk on each writable
// event) down to few, large chunks. It is twice the read buffer: one read,
// plus the partial frame carried over from the previous one, then fits one
// write, which halves a subscriber's reads; writing sooner, mid-batch,
// measured no better (bench/decisions/engine.md, "Write batch").
const writeBatch = 2 * readBatch

// loop is the state of one gnet event loop.
//
// Ownership: every plain field belongs to the loop's goroutine. The inbox
// is how other goroutines (other loops, the ticker) hand it outboxes to
// flush (inbox.go); the backlog's atomics tell the ticker when to send a
// retry (backlog.go); the counters are summed by Stats.
type loop struct {
	srv *Server
	el  gnet.EventLoop

	// dirty lists this loop's outboxes that got events during the current
	// batch; flushed when the batch ends (batch.go).
	dirty []*outbox
	// backlog lists outboxes whose events outlived a full outbound buffer.
	backlog backlog
	// wbuf is the write buffer a flush copies queued frames into; it holds
	// nothing between flushes (see doc.go).
	wbuf []byte
	// envelope holds the envelope publish builds for an empty PUB body
	// (dispatch.go): its only writer, and read only by that publish's
	// fan-out.
	envelope []byte
	// directPool recycles the outboxes' direct buffers between batches.
	directPool directPool
	// memo answers a repeated topic without the shared cache's hashing.
	memo trie.Memo[*peer]
	// batch counts what the current batch did; added to counters at its end
	// so the hot path does no atomic per frame.
	batch batchCounts

	inbox inbox

	// lastRun is when the loop last ran an inbox task (Unix ns): with a
	// watchdog (Config.OnTick) the ticker schedules one every
	// livenessTick(), so a loop that stops answering is visible here.
	lastRun atomic.Int64

	counters

	// lane is the loop's number, from 0: its lane in a capture.
	lane int

	// nonBridges is withoutBridges' scratch (dispatch.go): the
	// subscribers of one bridge's publish that are not bridges.
	nonBridges []*peer

	// unfinished lists this loop's connections holding an unfinished
	// frame (pending.go). Last, so that the fields above keep their
	// offsets.
	unfinished unfinishedList
}

// counters are written by one loop and summed by Stats.
type counters struct {
	// readBatches counts reads that carried at least one whole frame: each
	// costs a wakeup, a read and a flush, whatever it holds.
	readBatches    atomic.Uint64
	framesIn       atomic.Uint64
	bytesIn        atomic.Uint64
	published      atomic.Uint64
	eventsOut      atomic.Uint64
	bytesOut       atomic.Uint64
	protocolErrors atomic.Uint64
	dropNotices    atomic.Uint64
	backlogRetries atomic.Uint64
}

func newLoop(srv *Server, el gnet.EventLoop) *loop {
	l := &loop{srv: srv, el: el, wbuf: make([]byte, 0, writeBatch)}
	l.inbox.loop = l
	l.lastRun.Store(time.Now().UnixNano())
	return l
}

// livenessTimeout is the least time an event loop may go without running
// the ticker's task before the engine counts it as stuck (see
// Config.OnTick). A variable only so that tests can shorten it.
var livenessTimeout = 5 * time.Second

// alive reports whether the loop ran a ticker task within timeout.
func (l *loop) alive(now time.Time, timeout time.Duration) bool {
	return now.UnixNano()-l.lastRun.Load() < int64(timeout)
}
