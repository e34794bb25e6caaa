package engine

import (
	"context"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// countingLoop is a gnet event loop that only counts the tasks it is given.
type countingLoop struct {
	gnet.EventLoop
	tasks int
}

func (c *countingLoop) Execute(context.Context, gnet.Runnable) error {
	c.tasks++
	return nil
}

// The ticker sends a loop a task each idleTick, and a retry task only for a
// backlog the loop has not retried itself for backlogTick. While the loop
// keeps retrying (it is busy), the ticker backs off to maxBacklogTick; once
// a retry is due it is back to backlogTick.
func TestTickerLeavesABusyLoopAlone(t *testing.T) {
	srv, err := New(testConfig("/nonexistent/bus.sock"))
	if err != nil {
		t.Fatal(err)
	}
	el := &countingLoop{}
	l := newLoop(srv, el)
	srv.loopList.Store(&[]*loop{l})
	h := &handler{srv: srv}
	start := time.Now()
	tick := func(at time.Duration, wantDelay time.Duration, wantTasks int) {
		t.Helper()
		// Run schedules itself once per pending inbox: let the next
		// schedule through, as the loop would after running it.
		l.inbox.scheduled = false
		before := el.tasks
		delay := h.scheduleLoopTasks(start.Add(at))
		if delay != wantDelay || el.tasks-before != wantTasks {
			t.Fatalf("tick at %v: delay %v and %d tasks, want %v and %d", at, delay, el.tasks-before, wantDelay, wantTasks)
		}
	}
	ms := time.Millisecond
	tick(0, idleTick, 1)      // liveness, no backlog
	tick(10*ms, 90*ms, 0)     // nothing due
	l.backlog.has.Store(true) // a backlog appears...
	l.backlog.lastRetry.Store(start.Add(11 * ms).UnixNano())
	at := 12 * ms
	for _, want := range []time.Duration{2 * ms, 4 * ms, 8 * ms, 16 * ms, 32 * ms, 32 * ms} {
		// ...which the loop retries itself just before every tick.
		l.backlog.lastRetry.Store(start.Add(at - ms/2).UnixNano())
		tick(at, want, 0)
		at += want
	}
	// at is now 106 ms: the liveness task is due, whatever the backlog.
	l.backlog.lastRetry.Store(start.Add(at - ms/2).UnixNano())
	tick(at, maxBacklogTick, 1)
	nextLiveness := at + idleTick
	at += maxBacklogTick
	// The loop went quiet: its last retry is older than backlogTick.
	tick(at, backlogTick, 1)
	tick(at+backlogTick, backlogTick, 1) // and stays due while it is quiet
	l.backlog.has.Store(false)
	at += 2 * backlogTick
	tick(at, nextLiveness-at, 0)
}

// A busy loop retries its backlogged subscribers at the end of a batch, at
// most once per backlogTick, even when the batch has no event for them.
func TestBusyLoopRetriesItsBacklog(t *testing.T) {
	p := newPipeline(t, 1, "t.x")
	sub := p.subs[0]
	conn := &bufConn{}
	p.useConn(sub, conn)
	publishSeqs(p, 700, 20, nil)
	if !sub.out.backlogged || !sub.out.spilling() {
		t.Fatal("the subscriber is not backlogged: the test did not fill its socket")
	}
	conn.read() // the reader drains its socket; nothing tells the loop
	other := pubFrames("t.other", []byte(`{}`), 10)
	p.loop.backlog.lastRetry.Store(time.Now().UnixNano())
	p.feed(other)
	if conn.OutboundBuffered() != 0 {
		t.Fatal("the loop retried its backlog sooner than backlogTick after the last retry")
	}
	p.loop.backlog.lastRetry.Store(time.Now().Add(-backlogTick).UnixNano())
	p.feed(other)
	if conn.OutboundBuffered() == 0 {
		t.Fatal("a batch ending backlogTick after the last retry did not retry the backlog")
	}
}
