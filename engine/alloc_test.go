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
