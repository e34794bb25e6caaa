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

// tickerHarness runs the ticker's scheduling by hand on one counting loop.
func tickerHarness(t *testing.T, watchdog bool, tickEvery time.Duration) (l *loop, tick func(at, wantDelay time.Duration, wantTasks int)) {
	cfg := testConfig("/nonexistent/bus.sock")
	if watchdog {
		cfg.OnTick = func() {}
		cfg.OnTickEvery = tickEvery
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	el := &countingLoop{}
	l = newLoop(srv, el)
	srv.loopList.Store(&[]*loop{l})
	h := &handler{srv: srv}
	start := time.Now()
	return l, func(at, wantDelay time.Duration, wantTasks int) {
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
}

// With a watchdog the ticker sends a loop a liveness task each
// livenessTick, and a retry task only for a backlog the loop has not
// retried itself for backlogTick. While the loop keeps retrying (it is
// busy), the ticker backs off to maxBacklogTick; once a retry is due it is
// back to backlogTick.
func TestTickerLeavesABusyLoopAlone(t *testing.T) {
	l, tick := tickerHarness(t, true, 0)
	livenessTick := l.srv.livenessTick
	ms := time.Millisecond
	tick(0, livenessTick(), 1)           // liveness, no backlog
	tick(10*ms, livenessTick()-10*ms, 0) // nothing due
	l.backlog.has.Store(true)            // a backlog appears, which the loop keeps retrying itself
	l.backlog.lastRetry.Store(time.Now().Add(time.Hour).UnixNano())
	at := 12 * ms
	for _, want := range []time.Duration{2 * ms, 4 * ms, 8 * ms, 16 * ms, 32 * ms, 32 * ms} {
		tick(at, want, 0)
		at += want
	}
	// The loop went quiet: its last retry is older than backlogTick.
	l.backlog.lastRetry.Store(0)
	tick(at, backlogTick, 1)
	tick(at+backlogTick, backlogTick, 1) // and stays due while it is quiet
	l.backlog.has.Store(false)
	at += 2 * backlogTick
	tick(at, livenessTick()-at, 0)
	tick(livenessTick(), livenessTick(), 1) // the next liveness task
}

// Without a watchdog an idle daemon wakes no loop: the ticker itself
// sleeps maxIdleTick.
func TestIdleTickerWakesNoLoop(t *testing.T) {
	_, tick := tickerHarness(t, false, 0)
	tick(0, maxIdleTick, 0)
	tick(5*time.Second, maxIdleTick, 0)
}

// With the watchdog's period set, an idle loop gets one liveness task per
// period, and counts as stuck only after three periods without running one.
func TestLivenessFollowsTheWatchdogPeriod(t *testing.T) {
	every := 5 * time.Second
	l, tick := tickerHarness(t, true, every)
	tick(0, every, 1)
	tick(time.Second, every-time.Second, 0)
	tick(every, every, 1)
	now := time.Now()
	l.lastRun.Store(now.Add(-3*every + time.Second).UnixNano())
	if !l.srv.loopsAlive(now) {
		t.Fatal("a loop that ran a task under three periods ago counts as stuck")
	}
	l.lastRun.Store(now.Add(-3 * every).UnixNano())
	if l.srv.loopsAlive(now) {
		t.Fatal("a loop that ran no task for three periods counts as alive")
	}
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
