//go:build !race

package engine

import "testing"

// Reads that end inside a frame, as a streaming publisher's do, allocate
// nothing either: the connection joins its loop's unfinished list once. A
// new frame that small is left out of the budget until a scan.
func TestUnfinishedReadsAllocateNothing(t *testing.T) {
	p := newPipeline(t, 1, "decky.*.state")
	reads := unfinishedReads(16)
	p.feed(reads[0])
	p.feed(reads[1])
	i := 0
	if n := testing.AllocsPerRun(200, func() { p.feed(reads[i&1]); i++ }); n != 0 {
		t.Errorf("%.1f allocs per read, want 0", n)
	}
	u := &p.pub.limits.unfinished
	if u.n == 0 || !u.listed || u.held.Load() != 0 || p.srv.limits.pendingBytes.Load() != 0 {
		t.Errorf("publisher holds %d bytes (listed %t), %d counted, the server counts %d; want some, listed, none counted",
			u.n, u.listed, u.held.Load(), p.srv.limits.pendingBytes.Load())
	}
}
