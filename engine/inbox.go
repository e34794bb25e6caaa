package engine

import (
	"context"
	"sync"
	"time"
)

// inbox is how goroutines other than a loop's own (publishers on other
// loops, the ticker) hand it outboxes to flush: they append under mu and
// schedule one gnet Execute per non-empty inbox, so a burst of events
// costs one cross-loop task, not one per event. The task (loop.Run) runs on
// the loop's goroutine.
type inbox struct {
	loop *loop

	mu        sync.Mutex
	list      []*outbox
	spare     []*outbox // list's double buffer, swapped by Run
	scheduled bool      // an Execute is on its way
}

// schedule queues o, if not nil, and makes sure one task is on its way;
// the ticker's liveness and backlog tasks pass nil. Any goroutine
// (outbox.wake makes sure an outbox is queued once per flush).
func (in *inbox) schedule(o *outbox) {
	in.mu.Lock()
	if o != nil {
		in.list = append(in.list, o)
	}
	schedule := !in.scheduled
	in.scheduled = true
	in.mu.Unlock()
	if schedule {
		if err := in.loop.el.Execute(context.Background(), in.loop); err != nil {
			// The engine is shutting down: nothing will flush again.
			in.mu.Lock()
			in.scheduled = false
			in.mu.Unlock()
		}
	}
}

// take empties the inbox, returning what it held; the caller hands the
// slice back with release once done with it. Loop goroutine only.
func (in *inbox) take() []*outbox {
	in.mu.Lock()
	list := in.list
	in.list = in.spare[:0]
	in.scheduled = false
	in.mu.Unlock()
	return list
}

// release keeps list's array for the next take. Loop goroutine only.
func (in *inbox) release(list []*outbox) {
	clear(list)
	in.spare = list[:0]
}

// Run is the inbox's task (gnet.Runnable), on the loop's goroutine: it
// proves the loop alive, flushes what other goroutines handed it, and
// retries the backlog.
func (l *loop) Run(context.Context) error {
	now := time.Now().UnixNano()
	l.lastRun.Store(now)
	list := l.inbox.take()
	for _, o := range list {
		o.woken()
	}
	l.inbox.release(list)
	l.retryBacklog(now)
	l.scanUnfinished(now)
	return nil
}
