package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"busd/codec"
)

// Wildcard semantics end to end, including the odd cases PROTOCOL.md spells
// out (the trie package checks them exhaustively against a reference).
func TestWildcardsEndToEnd(t *testing.T) {
	cases := []struct {
		pattern, topic string
		match          bool
	}{
		{"topology.>", "topology.t1.status", true},
		{"topology.>", "topology", false},
		{"a.*", "a.", false},
		{"a.>", "a.", true},
		{"a.>.b", "a.x.y", true},
		{"a.>.b", "a", false},
		{"a..b", "a..b", true},
		{"a.*.b", "a..b", false},
		{"*", "x", true},
		{"*", "x.y", false},
		{">", "x.y", true},
		{"a.*", "a.*", true},
		{"a.>", "a.>", true},
		{"decky.*.state", "decky.d1.state", true},
		{"decky.*.state", "decky.d1.traffic", false},
	}
	e := startServer(t, nil)
	pub := e.dial()
	for i, tc := range cases {
		sub := e.dial()
		sub.sub(tc.pattern, "barrier")
		pub.send(codec.VerbPUB, tc.topic, envelope(i))
		if tc.match {
			sub.expect(tc.topic, envelope(i))
		}
		// Published after the event: had the event matched, it would be
		// here first.
		sub.expectBarrier(pub, "barrier")
		sub.conn.Close()
	}
}

func TestPerPublisherOrder(t *testing.T) {
	e := startServer(t, func(c *Config) { c.RingEvents = 1 << 16; c.RingBytes = 64 << 20 })
	sub := e.dial()
	sub.sub("order.>")
	const pubs, each = 4, 2000
	var wg sync.WaitGroup
	for p := range pubs {
		w := e.dial()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range each {
				buf = codec.AppendFrame(buf, codec.VerbPUB, "order."+strconv.Itoa(p), []byte(fmt.Sprintf(`{"i": %d}`, i)))
				if len(buf) > 8<<10 || i == each-1 {
					w.conn.Write(buf)
					buf = buf[:0]
				}
			}
		}()
	}
	wg.Wait()
	next := make([]int, pubs)
	for range pubs * each {
		ev, err := sub.next(10 * time.Second)
		if err != nil {
			t.Fatalf("after %v: %v", next, err)
		}
		p, _ := strconv.Atoi(ev.topic[len("order."):])
		var body struct{ I int }
		if err := json.Unmarshal([]byte(ev.body), &body); err != nil {
			t.Fatal(err)
		}
		if body.I != next[p] {
			t.Fatalf("publisher %d: got %d, want %d", p, body.I, next[p])
		}
		next[p]++
	}
}

// A subscriber that never reads slows neither the publisher nor another
// subscriber; once it reads it gets the newest events, in order, never more
// than its bound.
func TestSlowSubscriberIsIsolated(t *testing.T) {
	const bound = 64
	e := startServer(t, func(c *Config) { c.RingEvents = bound })
	slow, fast, pub := e.dial(), e.dial(), e.dial()
	slow.sub("flood")
	fast.sub("flood")
	const total, window = 20000, 32
	// The publisher stays at most window events ahead of the fast
	// subscriber (so the fast one can be lossless) and ignores the slow one.
	var received atomic.Int64
	done := make(chan error, 1)
	go func() {
		var buf []byte
		for i := range total {
			for int64(i)-received.Load() >= window {
				time.Sleep(50 * time.Microsecond)
			}
			buf = codec.AppendFrame(buf[:0], codec.VerbPUB, "flood", []byte(envelope(i)))
			pub.conn.SetWriteDeadline(time.Now().Add(20 * time.Second))
			if _, err := pub.conn.Write(buf); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range total {
		fast.expect("flood", envelope(i))
		received.Add(1)
	}
	if err := <-done; err != nil {
		t.Fatalf("publisher blocked or failed: %v", err)
	}
	if st := e.srv.Stats(); st.Dropped == 0 {
		t.Fatal("the slow subscriber dropped nothing: the test did not fill its queue")
	}
	// A barrier after the last event: the newest, so no drop takes it.
	pub.send(codec.VerbPUB, "flood", barrierBody)
	fast.expect("flood", barrierBody)
	// The slow one now reads up to the barrier: what it gets is in order,
	// ends with the newest event, and beyond what the kernel and gnet
	// already held, at most its bound came from the queue.
	last, got := -1, 0
	for {
		ev, err := slow.next(5 * time.Second)
		if err != nil {
			t.Fatalf("after %d events, before the barrier: %v", got, err)
		}
		if ev.body == barrierBody {
			break
		}
		var env struct{ ID string }
		json.Unmarshal([]byte(ev.body), &env)
		n, _ := strconv.ParseInt(env.ID, 16, 64)
		if int(n) <= last {
			t.Fatalf("out of order: %d after %d", n, last)
		}
		last = int(n)
		got++
	}
	if last != total-1 {
		t.Fatalf("slow subscriber's last event is %d, want the newest (%d)", last, total-1)
	}
	// The barrier's own push may have evicted one more of the total.
	dropped := e.srv.Stats().Dropped
	if uint64(got)+dropped != total {
		t.Fatalf("delivered %d + dropped %d != published %d", got, dropped, total)
	}
	t.Logf("slow subscriber: %d delivered, %d dropped", got, dropped)
}

func TestHeartbeat(t *testing.T) {
	e := startServer(t, func(c *Config) { c.Heartbeat = 50 * time.Millisecond })
	sub := e.dial()
	sub.sub("system.bus.*")
	for range 3 {
		ev, err := sub.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			V       int
			ID      string
			Topic   string
			Type    string
			TS      float64
			Payload struct {
				PID       int     `json:"pid"`
				UptimeSec float64 `json:"uptime_sec"`
				TS        float64 `json:"ts"`
			}
		}
		if err := json.Unmarshal([]byte(ev.body), &env); err != nil {
			t.Fatalf("%s: %v", ev.body, err)
		}
		if ev.topic != "system.bus.health" || env.Type != "bus.health" || env.V != 1 || len(env.ID) != 32 ||
			env.Payload.PID != os.Getpid() || env.Payload.UptimeSec <= 0 || env.Payload.TS < 1.7e9 {
			t.Fatalf("bad heartbeat %s %s", ev.topic, ev.body)
		}
	}
}
