package engine

import (
	"encoding/json"
	"testing"
	"time"

	"busd/codec"
)

// A subscriber whose queue overflowed learns it: one system.bus.dropped
// event, to it alone, before its next delivered event, with the count and
// the time span of the drops; a subscriber that never asked sees nothing.
func TestDropNotices(t *testing.T) {
	e := startServer(t, func(c *Config) { c.RingEvents = 16; c.HighWater = 4096 })
	asks, silent, pub := e.dial(), e.dial(), e.dial()
	asks.sub("flood", "system.bus.>")
	silent.sub("flood")
	const total = 5000
	before := time.Now()
	for i := range total {
		pub.send(codec.VerbPUB, "flood", envelope(i))
	}
	// The barrier: the newest event, so no drop takes it, and the notice of
	// any drop, its own push's included, goes out before it.
	pub.send(codec.VerbPUB, "flood", barrierBody)
	pub.sync()
	after := time.Now()

	read := func(w *wire) (events int, notices []event) {
		for {
			ev, err := w.next(5 * time.Second)
			if err != nil {
				t.Fatalf("after %d events and %d notices, before the barrier: %v", events, len(notices), err)
			}
			switch {
			case ev.topic == "system.bus.dropped":
				notices = append(notices, ev)
			case ev.body == barrierBody:
				return
			default:
				events++
			}
		}
	}
	events, notices := read(asks)
	if len(notices) == 0 {
		t.Fatal("no drop notice")
	}
	var lost uint64
	for _, n := range notices {
		var env struct {
			Type    string
			Topic   string
			Payload struct {
				Dropped uint64  `json:"dropped"`
				First   float64 `json:"first_ts"`
				Last    float64 `json:"last_ts"`
			}
		}
		if err := json.Unmarshal([]byte(n.body), &env); err != nil {
			t.Fatalf("%s: %v", n.body, err)
		}
		p := env.Payload
		if env.Type != "bus.dropped" || env.Topic != "system.bus.dropped" || p.Dropped == 0 || p.First > p.Last ||
			p.First < float64(before.UnixNano())/1e9-1 || p.Last > float64(after.UnixNano())/1e9+1 {
			t.Fatalf("bad notice %s", n.body)
		}
		lost += p.Dropped
	}
	if uint64(events)+lost != total {
		t.Fatalf("delivered %d + reported lost %d != %d published", events, lost, total)
	}
	silentEvents, silentNotices := read(silent)
	if len(silentNotices) != 0 {
		t.Fatalf("a connection without a matching pattern got %d notices", len(silentNotices))
	}
	if silentEvents == total {
		t.Fatal("the silent subscriber dropped nothing: the test did not overflow it")
	}
}
