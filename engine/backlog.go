package engine

import (
	"sync/atomic"
	"time"
)

// backlog lists a loop's outboxes whose events outlived a full outbound
// buffer. gnet tells no one when an outbound buffer drains, so the loop
// retries them: a busy loop at the end of its batches (retryBacklogIfDue),
// a quiet one when its timer (armed while the list is not empty) or the
// ticker (handler.scheduleLoopTasks) sends it a task.
//
// list and spare belong to the loop's goroutine; has and lastRetry are
// read by the ticker.
type backlog struct {
	// spare is list's double buffer, so retries do not allocate.
	list, spare []*outbox
	// has: list is not empty.
	has atomic.Bool
	// lastRetry is when the loop last retried the list (Unix ns).
	lastRetry atomic.Int64
	// timer brings a retry backlogTick after the list fills or after a
	// retry that leaves it full; every retry pushes it back, so a busy
	// loop retrying at the end of its batches is never woken for it.
	timer wakeTimer
}

// addBacklog lists o, which has just become backlogged, for a retry.
func (l *loop) addBacklog(o *outbox) {
	if len(l.backlog.list) == 0 {
		l.backlog.timer.arm(l, backlogTick)
	}
	l.backlog.list = append(l.backlog.list, o)
	l.backlog.has.Store(true)
}

// retryBacklogIfDue retries the backlog at the end of a batch when the last
// retry is backlogTick old; the clock is read only while there is a
// backlog.
func (l *loop) retryBacklogIfDue() {
	if len(l.backlog.list) > 0 {
		if now := time.Now().UnixNano(); now-l.backlog.lastRetry.Load() >= int64(backlogTick) {
			l.retryBacklog(now)
		}
	}
}

// retryBacklog gives backlogged outboxes another chance to move events
// into a drained outbound buffer. now is the time of the retry (Unix ns).
// An outbox still full goes back on the list.
func (l *loop) retryBacklog(now int64) {
	b := &l.backlog
	if len(b.list) == 0 {
		return
	}
	b.lastRetry.Store(now)
	l.backlogRetries.Add(1)
	pending := b.list
	b.list = b.spare[:0]
	for i, o := range pending {
		o.retry()
		pending[i] = nil
	}
	b.spare = pending[:0]
	b.has.Store(len(b.list) > 0)
	if len(b.list) > 0 {
		b.timer.arm(l, backlogTick)
	}
}
