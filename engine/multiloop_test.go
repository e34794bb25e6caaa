package engine

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"busd/codec"
)

// With several event loops, subscribers on other loops are reached through
// their loop's inbox; nothing is lost or reordered on the way, and closing
// connections while events are in flight leaks no reference.
func TestCrossLoopDelivery(t *testing.T) {
	e := startServer(t, func(c *Config) {
		c.Loops = 4
		c.RingEvents = 1 << 15
		c.RingBytes = 64 << 20
		c.Heartbeat = 5 * time.Millisecond
	})
	const subs, pubs, each = 6, 3, 3000
	readers := make([]*wire, subs)
	for i := range readers {
		readers[i] = e.dial()
		readers[i].sub("x.>")
	}
	var wg sync.WaitGroup
	for p := range pubs {
		w := e.dial()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range each {
				buf = codec.AppendFrame(buf, codec.VerbPUB, fmt.Sprintf("x.%d", p), []byte(fmt.Sprintf(`{"i": %d}`, i)))
				if len(buf) > 4<<10 || i == each-1 {
					w.conn.Write(buf)
					buf = buf[:0]
				}
			}
		}()
	}
	wg.Wait()
	var rg sync.WaitGroup
	for _, r := range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			next := make([]int, pubs)
			for range pubs * each {
				ev, err := r.next(10 * time.Second)
				if err != nil {
					t.Errorf("reader stopped after %v: %v", next, err)
					return
				}
				var p int
				fmt.Sscanf(ev.topic, "x.%d", &p)
				want := fmt.Sprintf(`{"i": %d}`, next[p])
				if ev.body != want {
					t.Errorf("publisher %d: got %s, want %s", p, ev.body, want)
					return
				}
				next[p]++
			}
		}()
	}
	rg.Wait()
	if st := e.srv.Stats(); st.Dropped != 0 {
		t.Fatalf("dropped %d with queues large enough for everything", st.Dropped)
	}
}

// Connections that vanish while other loops are still pushing into their
// queues leave nothing behind: every one is reaped with its subscriptions,
// the daemon keeps delivering, and every message reference is released.
// That last check needs the reference audit of the invariants build; the
// harness makes it at cleanup.
func TestCloseWhileEventsInFlight(t *testing.T) {
	e := startServer(t, func(c *Config) { c.Loops = 4; c.RingEvents = 256 })
	pub := e.dial()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		const frames = 64
		buf := pubFrames("churn.a", []byte(envelope(1)), frames)
		for {
			select {
			case <-stop:
				return
			default:
			}
			pub.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := pub.conn.Write(buf); err != nil {
				return
			}
			e.sent.Add(frames) // so that sync below waits for the flood too
		}
	}()
	for range 200 {
		w := e.dial()
		w.send(codec.VerbSUB, "churn.>", "")
		w.conn.Close()
	}
	close(stop)
	<-stopped
	e.waitStats("every closed subscriber to be reaped", func(st Stats) bool {
		return st.Connections == 1 && st.Subscriptions == 0
	})
	after := e.dial()
	after.sub("after")
	healthyExchange(pub, after, "after", 10)
}
