package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

type blockingTask chan struct{}

func (b blockingTask) Run(context.Context) error { <-b; return nil }

// OnTick (the watchdog's hook) runs while the loops run, stops while one is
// stuck, and resumes when it recovers.
func TestOnTickStopsWhileALoopIsStuck(t *testing.T) {
	// Restored by a cleanup registered before the server's, so it runs after
	// the server (and its ticker, which reads it) has stopped.
	saved := livenessTimeout
	t.Cleanup(func() { livenessTimeout = saved })
	livenessTimeout = 300 * time.Millisecond
	var ticks atomic.Int64
	e := startServer(t, func(c *Config) { c.OnTick = func() { ticks.Add(1) } })
	w := e.dial()
	w.sub("x")
	waitTicks := func(want bool) {
		t.Helper()
		start := ticks.Load()
		time.Sleep(400 * time.Millisecond)
		if got := ticks.Load() > start; got != want {
			t.Fatalf("ticks moving = %v, want %v", got, want)
		}
	}
	waitTicks(true)

	var el gnet.EventLoop
	e.srv.clients.Range(func(_ uint64, cl *peer) bool { el = cl.loop.el; return false })
	stuck := make(blockingTask)
	var release sync.Once
	unstick := func() { release.Do(func() { close(stuck) }) }
	// A failing check must not leave the loop stuck: the server's shutdown,
	// a cleanup registered earlier and so run later, would wait for it.
	t.Cleanup(unstick)
	if err := el.Execute(context.Background(), stuck); err != nil {
		t.Fatal(err)
	}
	time.Sleep(livenessTimeout)
	waitTicks(false)
	unstick()
	time.Sleep(200 * time.Millisecond)
	waitTicks(true)
}
