package engine

import (
	"time"

	"busd/capture"
)

// A read batch is one OnTraffic: every complete frame gnet read from one
// connection, dispatched in a row, then endBatch. What the batch's
// publishes delivered on this loop waits in the dirty outboxes until then,
// so that one read's events leave in one write per subscriber.

type batchCounts struct {
	framesIn, bytesIn, published uint64
	// now caches the clock for the batch (0: not read yet), so that a
	// subscriber dropping on every push does not read it on every push.
	now int64
	// captureNow caches the running capture's clock for the batch, for
	// captureRecorder (capture.go), the capture it was read for.
	captureNow      int64
	captureRecorder *capture.Recorder
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

// addDirty lists o, an outbox of this loop, for the flush at the batch's
// end (outbox.markDirty keeps it listed once).
func (l *loop) addDirty(o *outbox) { l.dirty = append(l.dirty, o) }

// endBatch adds the batch's counts and flushes every outbox of this loop
// that got events in the batch.
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
	for i, o := range l.dirty {
		o.batchEnded()
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
	l.retryBacklogIfDue()
}
