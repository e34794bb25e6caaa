package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"busd/trie"
)

// readBatch is the most gnet reads from a connection per readable event.
// It is gnet's default, set here because writeBatch is derived from it. On
// W1w it measured best of 16 KiB to 256 KiB: smaller reads cost more
// syscalls per event, larger ones hold a batch's events back from their
// subscribers for longer (W1w ÷ raw, medians of 6 interleaved rounds:
// 16 KiB 0.51, 32 KiB 0.69, 64 KiB 0.73, 128 KiB 0.61, 256 KiB 0.67).
const readBatch = 64 << 10

// writeBatch is the size of a loop's write buffer: events are copied into it
// and handed to the connection in one write, which measured cheaper than a
// writev of many small frames and keeps gnet's outbound buffer (which
// rescans every queued chunk on each writable event) down to few, large
// chunks. It is twice the read buffer: one read, plus the partial frame
// carried over from the previous one, then fits one write, which halves a
// subscriber's reads (measured: one write per read batch instead of 1.6,
// W1w +6 %). Writing sooner, whenever 8, 16 or 32 KiB had collected
// mid-batch, measured no better (W1w ÷ raw 0.53, 0.60, 0.63 against 0.60).
const writeBatch = 2 * readBatch

// maxDirectBuffers bounds the direct buffers a loop hands out at once, so a
// batch that reaches thousands of subscribers costs at most this many
// writeBatch buffers (8 MiB); the others get the batch through their queue.
const maxDirectBuffers = 64

// loop is the state of one gnet event loop.
//
// Ownership: dirty, backlog and wbuf belong to the loop's goroutine. inbox
// is how other goroutines (other loops, the ticker) hand it clients to
// flush: they append under inboxMu and schedule one Execute per non-empty
// inbox, so a burst of events costs one cross-loop task, not one per event.
type loop struct {
	srv *Server
	el  gnet.EventLoop

	// dirty lists this loop's clients that got events during the current
	// batch; flushed when the batch ends.
	dirty []*peer
	// backlog lists clients whose queue outlived a full outbound buffer;
	// backlogSpare is its double buffer, so retries do not allocate.
	backlog      []*peer
	backlogSpare []*peer
	wbuf         []byte
	// scratch holds envelopes the server builds (empty PUB bodies).
	scratch []byte
	// spareDirect recycles clients' direct buffers between batches;
	// directOut counts those handed out (at most maxDirectBuffers).
	spareDirect [][]byte
	directOut   int
	// memo answers a repeated topic without the shared cache's hashing.
	memo trie.Memo[*peer]
	// batch counts what the current batch did; added to counters at its end
	// so the hot path does no atomic per frame.
	batch batchCounts

	inboxMu   sync.Mutex
	inbox     []*peer
	spare     []*peer
	scheduled bool // guarded by inboxMu: an Execute is on its way

	// hasBacklog tells the ticker that this loop has backlogged clients,
	// and lastRetry is when the loop last retried them (Unix ns): a busy
	// loop retries them itself (endBatch), a quiet one when the ticker
	// says so (scheduleLoopTasks).
	hasBacklog atomic.Bool
	lastRetry  atomic.Int64
	// lastRun is when the loop last ran an inbox task (Unix ns): the
	// ticker schedules one at least every idleTick, so a loop that stops
	// answering is visible here.
	lastRun atomic.Int64

	counters
}

type batchCounts struct {
	framesIn, bytesIn, published uint64
	// now caches the clock for the batch (0: not read yet), so that a
	// subscriber dropping on every push does not read it on every push.
	now int64
}

// clock returns the current batch's time in Unix nanoseconds, reading the
// clock at most once per batch. A nil loop (the ticker) reads it each time.
func (l *loop) clock() int64 {
	if l == nil {
		return time.Now().UnixNano()
	}
	if l.batch.now == 0 {
		l.batch.now = time.Now().UnixNano()
	}
	return l.batch.now
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
}

func newLoop(srv *Server, el gnet.EventLoop) *loop {
	l := &loop{srv: srv, el: el, wbuf: make([]byte, 0, writeBatch)}
	l.lastRun.Store(time.Now().UnixNano())
	return l
}

// livenessTimeout is how long an event loop may leave the ticker's task
// unanswered before the engine counts it as stuck (see Config.OnTick). A
// variable only so that tests can shorten it.
var livenessTimeout = 5 * time.Second

// alive reports whether the loop ran a ticker task within livenessTimeout.
func (l *loop) alive(now time.Time) bool {
	return now.UnixNano()-l.lastRun.Load() < int64(livenessTimeout)
}

// markDirty records that cl, a client of this loop, has new events to
// flush at the end of the batch.
func (l *loop) markDirty(cl *peer) {
	if !cl.dirty {
		cl.dirty = true
		l.dirty = append(l.dirty, cl)
	}
}

// wake hands cl to this loop from any goroutine.
func (l *loop) wake(cl *peer) {
	if !cl.wakePending.CompareAndSwap(false, true) {
		return
	}
	l.schedule(cl)
}

// schedule queues cl (if not nil) and makes sure one Run is on its way.
func (l *loop) schedule(cl *peer) {
	l.inboxMu.Lock()
	if cl != nil {
		l.inbox = append(l.inbox, cl)
	}
	schedule := !l.scheduled
	l.scheduled = true
	l.inboxMu.Unlock()
	if schedule {
		if err := l.el.Execute(context.Background(), l); err != nil {
			// The engine is shutting down: nothing will flush again.
			l.inboxMu.Lock()
			l.scheduled = false
			l.inboxMu.Unlock()
		}
	}
}

// Run drains the inbox on the loop's goroutine (gnet.Runnable).
func (l *loop) Run(context.Context) error {
	now := time.Now().UnixNano()
	l.lastRun.Store(now)
	l.inboxMu.Lock()
	batch := l.inbox
	l.inbox = l.spare[:0]
	l.scheduled = false
	l.inboxMu.Unlock()
	for i, cl := range batch {
		cl.wakePending.Store(false)
		l.srv.flush(cl)
		batch[i] = nil
	}
	l.spare = batch[:0]
	l.retryBacklog(now)
	return nil
}

// endBatch flushes every client of this loop that got events in the batch.
func (l *loop) endBatch() {
	if b := &l.batch; b.framesIn != 0 {
		l.framesIn.Add(b.framesIn)
		l.bytesIn.Add(b.bytesIn)
		l.readBatches.Add(1)
		if b.published != 0 {
			l.published.Add(b.published)
		}
	}
	l.batch = batchCounts{}
	l.srv.index.FlushMemo(&l.memo)
	for i, cl := range l.dirty {
		cl.dirty = false
		l.srv.flush(cl)
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
	// A busy loop retries its backlog itself, sparing it the ticker's
	// wakeups; the clock is read only while there is a backlog.
	if len(l.backlog) > 0 {
		if now := time.Now().UnixNano(); now-l.lastRetry.Load() >= int64(backlogTick) {
			l.retryBacklog(now)
		}
	}
}

// retryBacklog gives backlogged clients another chance to move events from
// their queue into a drained outbound buffer. now is the time of the retry
// (Unix ns).
func (l *loop) retryBacklog(now int64) {
	if len(l.backlog) == 0 {
		return
	}
	l.lastRetry.Store(now)
	pending := l.backlog
	l.backlog = l.backlogSpare[:0]
	for i, cl := range pending {
		cl.backlogged = false
		l.srv.flush(cl)
		pending[i] = nil
	}
	l.backlogSpare = pending[:0]
	l.hasBacklog.Store(len(l.backlog) > 0)
}

// directBuffer returns an empty buffer of writeBatch capacity, or nil when
// maxDirectBuffers are out.
func (l *loop) directBuffer() []byte {
	if l.directOut >= maxDirectBuffers {
		return nil
	}
	l.directOut++
	if n := len(l.spareDirect); n > 0 {
		b := l.spareDirect[n-1]
		l.spareDirect[n-1] = nil
		l.spareDirect = l.spareDirect[:n-1]
		return b
	}
	return make([]byte, 0, writeBatch)
}

// releaseDirect gives cl's direct buffer back to the loop.
func (l *loop) releaseDirect(cl *peer) {
	if cl.direct != nil {
		l.spareDirect = append(l.spareDirect, cl.direct[:0])
		cl.direct = nil
		l.directOut--
	}
}
