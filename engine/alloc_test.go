//go:build !race

package engine

import (
	"testing"
)

// The steady-state message path allocates nothing: parse, validate, match
// (cache hit), build the shared frame, queue it for every subscriber, copy
// it out and write.
func TestMessagePathAllocatesNothing(t *testing.T) {
	for _, subs := range []int{1, 8} {
		p := newPipeline(t, subs, "decky.*.state")
		batch := pubFrames("decky.d1.state", []byte(envelope(1)), 16)
		p.feed(batch) // warm the pools, the cache and the slices
		if n := testing.AllocsPerRun(200, func() { p.feed(batch) }); n != 0 {
			t.Errorf("subs=%d: %.1f allocs per batch, want 0", subs, n)
		}
		for _, s := range p.subs {
			if s.conn.(*fakeConn).written == 0 {
				t.Fatal("nothing reached the subscriber")
			}
		}
	}
}

// A subscriber that never reads costs no allocation either: once its spill
// has grown to hold a full queue, each new event takes the place of the
// oldest.
func TestBackloggedPathAllocatesNothing(t *testing.T) {
	p := newPipeline(t, 2, "decky.*.state")
	stuck := p.subs[1]
	stuck.conn.(*fakeConn).stuck = p.srv.cfg.HighWater
	batch := pubFrames("decky.d1.state", []byte(envelope(1)), 16)
	for range 2 * p.srv.cfg.RingEvents / 16 {
		p.feed(batch) // fill the stuck subscriber's spill
	}
	drops := stuck.out.drops()
	if n := testing.AllocsPerRun(200, func() { p.feed(batch) }); n != 0 {
		t.Errorf("%.1f allocs per batch, want 0", n)
	}
	if !stuck.out.spilling() || stuck.out.queued() != p.srv.cfg.RingEvents || stuck.out.drops() == drops {
		t.Fatalf("stuck subscriber spilling %t, holds %d (want %d, full) and dropped %d more", stuck.out.spilling(), stuck.out.queued(), p.srv.cfg.RingEvents, stuck.out.drops()-drops)
	}
	if p.subs[0].conn.(*fakeConn).written == 0 || stuck.conn.(*fakeConn).written != 0 {
		t.Fatal("the reader got nothing, or the stuck connection was written to")
	}
}
